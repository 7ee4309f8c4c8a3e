"""Random nights: archives come, go, come back and change (phones, regions, names, birth
dates, IDs); reviewers decide; every night the incremental run must equal a full rebuild.

This exercises the pieces a scripted week cannot cover by hand: term-frequency and prior
drift of stored pairs, components that grow, split and join, and re-clustering only the
affected archives.  Synthetic population only.
"""

from __future__ import annotations

import random
import shutil

import pytest

from linkage.pipeline import run
from linkage.review.store import ReviewStore, store_path
from linkage.synth import generate_population

from helpers import read_csv, write_archives

pytestmark = pytest.mark.slow


def _edit(row: dict[str, str], rng: random.Random) -> dict[str, str]:
    row = dict(row)
    field = rng.choice(["phone", "region_code", "name", "birth_date", "id_number", "address"])
    value = row[field] or ""
    if field == "region_code" and value:
        row[field] = value[:9] + f"{(int(value[9:]) + 1) % 1000:03d}"
    elif field == "name" and len(value) > 1:
        row[field] = value[:-1]  # a dropped character
    elif field == "birth_date" and len(value) >= 10:
        row[field] = value[:8] + f"{(int(value[8:10]) % 28) + 1:02d}"
    elif value:
        row[field] = value[:-1] + str((int(value[-1]) + 1) % 10) if value[-1].isdigit() else value
    return row


def test_random_nights_incremental_equals_full(tmp_path, model_path):
    rng = random.Random(5)
    generate_population(1200, 77, tmp_path / "population")
    everyone = read_csv(tmp_path / "population" / "archives.csv")
    present = {r["archive_id"] for r in everyone if rng.random() < 0.85}
    rows = {r["archive_id"]: r for r in everyone}
    state, out = tmp_path / "state" / "state.duckdb", tmp_path / "out"
    for night in range(5):
        if night:
            absent = sorted(set(rows) - present)
            present -= set(rng.sample(sorted(present), k=len(present) // 40))
            present |= set(rng.sample(absent, k=min(len(absent), 30)))
            for archive in rng.sample(sorted(present), k=len(present) // 30):
                rows[archive] = _edit(rows[archive], rng)
            reviews = [d for d in read_csv(out / "decisions.csv") if d["action"] == "review"]
            if reviews:
                with ReviewStore(store_path(out)) as store:
                    for d in rng.sample(reviews, k=min(3, len(reviews))):
                        store.decide((d["archive_id"], d["survivor_archive_id"]),
                                     rng.choice(["same", "different"]), "reviewer9", source="cli")
        archives = write_archives(tmp_path / f"night{night}.csv",
                                  [rows[a] for a in sorted(present)])
        full_state, full_out = tmp_path / f"full{night}" / "state.duckdb", tmp_path / f"full{night}" / "out"
        if state.exists():
            full_state.parent.mkdir()
            shutil.copy2(state, full_state)
            shutil.copytree(out, full_out)
        summary = run(archives, out, model_path, show_progress=False, state_path=state)
        if not full_state.parent.exists():
            continue
        full = run(archives, full_out, model_path, show_progress=False, state_path=full_state, full=True)
        assert summary.mode == "incremental" and full.mode == "full"
        assert summary.reclustered < full.reclustered
        for name in ("clusters.csv", "decisions.csv"):
            assert read_csv(out / name) == read_csv(full_out / name), f"night {night}: {name}"
        assert summary.person_ids == full.person_ids and summary.merges == full.merges
