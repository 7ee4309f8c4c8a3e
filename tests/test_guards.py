"""Guards against blow-ups (issue 10): oversized blocks left out of their rule, review rows
capped per group, both reported without personal data; realistic data never triggers them.

Probe populations are built here from a small synthetic population: one birth date and one
region on every row, and one resident exported many times.  Limits are lowered through a
config file so the probes stay small; one probe checks the shipped defaults.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import duckdb
import pytest

from linkage.blocking_guard import guard_blocking, rule_keys, total_limit
from linkage.config import Limits, default_config_path, load_config
from linkage.errors import ConfigError
from linkage.pipeline import run
from linkage.review.store import ReviewStore, store_path
from linkage.review_cap import cap_review_rows
from linkage.synth import generate_population

from helpers import read_csv, write_archives

Row = dict[str, str]


# -- rule keys and limits -------------------------------------------------------------------

@pytest.mark.parametrize("sql, keys", [
    ("l.county = r.county AND l.dob_best = r.dob_best AND (l.surname_py = r.surname_py "
     "OR l.given_py = r.given_py)", ("county", "dob_best")),
    ("l.id_norm = r.id_norm", ("id_norm",)),
    ("(l.name_py = r.name_py) AND r.dob_year = l.dob_year AND (abs(l.dob_days - r.dob_days) "
     "<= 60 OR l.dob_jan1)", ("name_py", "dob_year")),
    ("l.a = r.b AND l.c = r.c", ("c",)),  # different columns: not a block key
    ("l.a = r.a OR l.b = r.b", ()),  # no key: not estimated
    ("lower(l.a) = lower(r.a) and l.b = r.b", ("b",)),
    ("l.x = r.x AND l.note = 'A AND B'", ("x",)),
])
def test_rule_keys(sql, keys):
    assert rule_keys(sql) == keys


def test_every_default_rule_has_a_key():
    for rule in load_config().blocking_rules:
        assert rule_keys(rule.sql), rule.name


def test_total_limit_scales_with_the_run_within_bounds():
    limits = Limits(max_block_pairs=1000, max_pairs_per_archive=10, max_total_pairs=50_000)
    assert total_limit(limits, 10) == 1000  # never below one block
    assert total_limit(limits, 2000) == 20_000
    assert total_limit(limits, 10**6) == 50_000


def _config_with(tmp_path: Path, **limits: int) -> Path:
    text = default_config_path().read_text(encoding="utf-8")
    for key, value in limits.items():
        text, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert found == 1, key
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_limits_are_read_from_the_config(tmp_path):
    assert load_config().limits == Limits()
    config = load_config(_config_with(tmp_path, max_block_pairs=77, max_review_rows_per_group=5))
    assert config.limits.max_block_pairs == 77 and config.limits.max_review_rows_per_group == 5


@pytest.mark.parametrize("value", ["0", "-3", "true", "1.5", '"big"'])
def test_bad_limits_are_config_errors(tmp_path, value):
    with pytest.raises(ConfigError, match=r"\[limits\] max_block_pairs"):
        load_config(_config_with(tmp_path, max_block_pairs=value))


def test_unknown_limit_is_a_config_error(tmp_path):
    path = _config_with(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "max_blocks = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown keys: max_blocks"):
        load_config(path)


# -- the guard on a table -------------------------------------------------------------------

def test_guard_leaves_out_only_the_oversized_block():
    con = duckdb.connect()
    # 60 archives share county + birth date (1770 pairs; 228 by surname); 5 others (10 pairs)
    # share another date.
    con.execute("""
        CREATE TABLE t AS
        SELECT 'A' || i AS archive_id, '620802' AS county, DATE '1960-05-17' AS dob_best,
               'n' || (i % 7) AS surname_py
        FROM range(60) r(i)
        UNION ALL
        SELECT 'B' || i, '620802', DATE '1971-02-03', 'n0' FROM range(5) r(i)
    """)
    config = load_config()
    from dataclasses import replace

    from linkage.config import BlockingRule
    config = replace(config, limits=Limits(max_block_pairs=1000), blocking_rules=(
        BlockingRule("county_dob", "l.county = r.county AND l.dob_best = r.dob_best"),
        BlockingRule("dob_surname", "l.dob_best = r.dob_best AND l.surname_py = r.surname_py"),
    ))
    guarded, report = guard_blocking(con, "t", config)
    assert report.pairs_estimated_by_rule == {"county_dob": 1770 + 10, "dob_surname": 228 + 10}
    assert [(b.rule, b.archives, b.county, b.date, b.why) for b in report.dropped] == [
        ("county_dob", 60, "620802", "1960-05-17", "block limit")]
    assert "getvariable" in guarded.blocking_rules[0].sql
    assert guarded.blocking_rules[1] == config.blocking_rules[1]  # untouched
    pairs = lambda rule: con.execute(  # noqa: E731
        f"SELECT count(*) FROM t l JOIN t r ON ({rule.sql}) AND l.archive_id < r.archive_id"
    ).fetchall()[0][0]
    assert pairs(guarded.blocking_rules[0]) == 10  # only the small block is left
    assert pairs(guarded.blocking_rules[1]) == 228 + 10


# -- probes through the engine --------------------------------------------------------------

@pytest.fixture(scope="module")
def people(tmp_path_factory) -> list[Row]:
    folder = tmp_path_factory.mktemp("people")
    generate_population(1500, 9, folder)
    return read_csv(folder / "archives.csv")


def _secrets(rows: list[Row]) -> set[str]:
    """Names, ID numbers and phones of the probe (none may appear in logs or summary)."""
    return {r[c] for r in rows for c in ("name", "id_number", "phone") if len(r[c]) >= 2}


def _no_secrets(text: str, rows: list[Row]) -> None:
    leaked = [s for s in _secrets(rows) if s in text]
    assert not leaked, f"{len(leaked)} names/IDs/phones leaked"


@pytest.mark.slow
def test_one_birth_date_and_region_everywhere_is_bounded_and_warned(tmp_path, people, caplog):
    rows = [dict(r, birth_date="1960-05-17", region_code="620802100201") for r in people[:1500]]
    source = write_archives(tmp_path / "same_dob.csv", rows)
    # Shipped limits: county_dob (county + birth date, and surname or given name) is bounded
    # per alternative, so the one county-wide block is no threat and nothing is skipped.
    summary = run(source, tmp_path / "shipped", show_progress=False)
    guard = summary.guards["blocking"]
    assert guard["blocks_dropped"] == 0
    assert summary.pairs_compared <= guard["pairs_estimated"] <= guard["max_total_pairs"]
    # Lower limits: the largest blocks are skipped, named by county and date, never by name.
    config = _config_with(tmp_path, max_block_pairs=2000)
    with caplog.at_level(logging.WARNING, logger="linkage"):
        summary = run(source, tmp_path / "out", config_path=config, show_progress=False)
    guard = summary.guards["blocking"]
    dropped = guard["dropped"]
    assert dropped[0]["why"] == "block limit" and dropped[0]["pairs_estimated"] > 2000
    assert dropped[0]["county"] == "620802" and dropped[0]["date"] == "1960-05-17"
    assert guard["pairs_estimated_after_guard"] <= guard["max_total_pairs"]
    assert summary.pairs_compared <= guard["pairs_estimated_after_guard"]
    warnings = "\n".join(r.getMessage() for r in caplog.records)
    assert f"rule {dropped[0]['rule']} skips a block of {dropped[0]['archives']:,} archives" in warnings
    assert "county 620802, birth date 1960-05-17" in warnings
    text = (tmp_path / "out" / "summary.json").read_text(encoding="utf-8")
    assert json.loads(text)["guards"]["blocking"]["dropped"][0]["date"] == "1960-05-17"
    _no_secrets(warnings + text, rows)


@pytest.mark.slow
def test_lower_limits_leave_out_more_blocks_and_stay_within_the_total(tmp_path, people):
    rows = [dict(r, birth_date="1960-05-17", region_code="620802100201") for r in people[:800]]
    source = write_archives(tmp_path / "same_dob.csv", rows)
    config = _config_with(tmp_path, max_block_pairs=1000, max_pairs_per_archive=5,
                          max_total_pairs=6000)
    summary = run(source, tmp_path / "out", config_path=config, show_progress=False)
    guard = summary.guards["blocking"]
    assert guard["max_total_pairs"] == 4000  # 800 archives x 5, above one block's 1000
    assert guard["pairs_estimated_after_guard"] <= 4000
    assert summary.pairs_compared <= 4000
    reasons = {b["why"] for b in guard["dropped"]}
    assert reasons == {"block limit", "total limit"}
    assert all(b["county"] == "620802" for b in guard["dropped"])
    assert all("surname_py" in b["same"] for b in guard["dropped"] if b["rule"] == "dob_surname")


@pytest.fixture(scope="module")
def repeated(people) -> list[Row]:
    """One resident exported 150 times, among 400 other archives."""
    one = next(r for r in people[400:] if r["name"] and r["id_number"] and r["birth_date"])
    copies = [dict(one, archive_id=f"62080210020100{i:03d}") for i in range(150)]
    return copies + people[:400]


@pytest.mark.slow
def test_one_resident_many_times_lists_capped_review_rows(tmp_path, repeated, caplog):
    source = write_archives(tmp_path / "repeated.csv", repeated)
    config = _config_with(tmp_path, max_review_rows_per_group=20)
    with caplog.at_level(logging.WARNING, logger="linkage"):
        summary = run(source, tmp_path / "out", config_path=config, show_progress=False)
    decisions = read_csv(tmp_path / "out" / "decisions.csv")
    copies = {r["archive_id"] for r in repeated[:150]}
    person = {r["archive_id"]: r["person_id"] for r in read_csv(tmp_path / "out" / "clusters.csv")}
    clusters = {person[a] for a in copies}
    assert len(clusters) > 1
    # Over a thousand archive pairs, one question per pair of the resident's clusters
    # (linkage.review_fold), and of those only 20 listed.
    folded = summary.guards["review_folded"]
    assert folded["same_persons_folded"] > 1000
    questions = len(clusters) * (len(clusters) - 1) // 2
    review = summary.guards["review"]
    assert review["groups_capped"] == 1
    group = review["groups"][0]
    assert group["archives"] == len(clusters) and group["listed"] == 20
    assert group["review_pairs"] == questions
    assert review["review_rows_not_listed"] == questions - 20
    listed = [d for d in decisions if d["action"] == "review" and d["archive_id"] in copies]
    assert len(listed) == 20
    assert all("20 of " in d["reason"] and "max_review_rows_per_group" in d["reason"] for d in listed)
    # The listed rows tie the resident's clusters together, so "same" on them joins all.
    listed_persons = {person[a] for d in listed for a in (d["archive_id"], d["survivor_archive_id"])}
    assert listed_persons == clusters
    with ReviewStore(store_path(tmp_path / "out")) as store:
        queued = [i for i in store.list_queue() if i.archive_id_l in copies]
    assert len(queued) == 20
    warnings = "\n".join(r.getMessage() for r in caplog.records)
    assert f"review cap: a group of {len(clusters)} archives in county" in warnings
    _no_secrets(warnings + (tmp_path / "out" / "summary.json").read_text(encoding="utf-8"),
                repeated)


def test_cap_keeps_a_spanning_set_then_the_strongest():
    # Clusters {a1,a2}, {b1}, {c1}; review rows between them, strongest first.
    rows = [
        {"action": "merge", "archive_id": "a2", "survivor_archive_id": "a1"},
        *({"action": "review", "archive_id": x, "survivor_archive_id": y, "match_probability": p,
           "reason": "score between review and automatic thresholds", "from_region": "620802001001"}
          for x, y, p in [("a1", "b1", 0.99), ("a2", "b1", 0.98), ("b1", "c1", 0.6),
                          ("a1", "c1", 0.97), ("a2", "c1", 0.5)]),
    ]
    person_of = {"a1": "P1", "a2": "P1"}
    kept, report = cap_review_rows(rows, person_of, 3)
    pairs = [(d["archive_id"], d["survivor_archive_id"]) for d in kept if d["action"] == "review"]
    # a1-b1 and a1-c1 span the three clusters; then the strongest other, a2-b1.
    assert pairs == [("a1", "b1"), ("a2", "b1"), ("a1", "c1")]
    assert kept[0] == rows[0]  # other rows untouched
    assert report.groups_capped == 1 and report.review_rows_not_listed == 2
    assert report.groups[0].archives == 4 and report.groups[0].county == "620802"
    assert cap_review_rows(rows, person_of, 5)[0] is rows  # within the cap: unchanged
    tight, _ = cap_review_rows(rows, person_of, 1)
    assert [(d["archive_id"], d["survivor_archive_id"]) for d in tight[1:]] == [("a1", "b1")]


def _queue(out: Path) -> list[tuple]:
    with ReviewStore(store_path(out)) as store:
        return sorted((i.archive_id_l, i.archive_id_r, i.match_probability, i.reason)
                      for i in store.list_queue())


@pytest.mark.slow
@pytest.mark.parametrize("probe", ["repeated", "same_dob"])
def test_guarded_night_rerun_emits_nothing_and_matches_a_full_rebuild(tmp_path, probe, people,
                                                                      repeated):
    if probe == "repeated":
        rows = repeated
        config = _config_with(tmp_path, max_review_rows_per_group=20)
    else:
        rows = [dict(r, birth_date="1960-05-17", region_code="620802100201") for r in people[:800]]
        config = _config_with(tmp_path, max_block_pairs=3000, max_pairs_per_archive=5,
                              max_total_pairs=6000, max_review_rows_per_group=30)
    source = write_archives(tmp_path / "probe.csv", rows)
    state, out = tmp_path / "state.duckdb", tmp_path / "out"
    first = run(source, out, config_path=config, show_progress=False, state_path=state)
    if probe == "repeated":
        assert first.guards["review"]["groups_capped"] == 1
    else:
        assert first.guards["blocking"]["blocks_dropped"] > 1
    queue = _queue(out)
    second = run(source, out, config_path=config, show_progress=False, state_path=state)
    assert second.mode == "incremental" and second.decisions_emitted == {}
    assert _queue(out) == queue
    assert second.guards["blocking"]["dropped"] == first.guards["blocking"]["dropped"]
    # A stateless run of the same input lists the same review pairs with the same scores.
    run(source, tmp_path / "stateless", config_path=config, show_progress=False)
    assert _queue(tmp_path / "stateless") == queue


@pytest.mark.slow
def test_realistic_population_triggers_no_guard(tmp_path, people):
    source = write_archives(tmp_path / "people.csv", people)
    summary = run(source, tmp_path / "out", show_progress=False)
    assert summary.guards["blocking"]["blocks_dropped"] == 0
    assert summary.guards["review"]["groups_capped"] == 0
    roomy = _config_with(tmp_path, max_block_pairs=10**12, max_pairs_per_archive=10**9,
                         max_total_pairs=10**15, max_review_rows_per_group=10**9)
    run(source, tmp_path / "roomy", config_path=roomy, show_progress=False)
    for name in ("clusters.csv", "decisions.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (tmp_path / "roomy" / name).read_bytes()


def _groups(out: Path) -> list[list[str]]:
    members: dict[str, list[str]] = {}
    for row in read_csv(out / "clusters.csv"):
        members.setdefault(row["person_id"], []).append(row["archive_id"])
    return sorted(sorted(m) for m in members.values())


@pytest.mark.slow
def test_night_whose_skipped_blocks_change_rebuilds_in_full(tmp_path, people):
    """Pairs stored from earlier nights were made under other skips: an incremental night
    would keep pairs a full rebuild skips (or miss ones it makes)."""
    rows = [dict(r, birth_date="1960-05-17", region_code="620802100201") for r in people[:800]]
    config = _config_with(tmp_path, max_block_pairs=3000, max_pairs_per_archive=5,
                          max_total_pairs=6000)
    state, out = tmp_path / "state.duckdb", tmp_path / "out"
    run(write_archives(tmp_path / "a.csv", rows[:600]), out, config_path=config, show_progress=False,
        state_path=state)
    night_b = write_archives(tmp_path / "b.csv", rows)
    second = run(night_b, out, config_path=config, show_progress=False, state_path=state)
    assert second.mode == "full" and "blocking guard" in second.full_reason
    third = run(night_b, out, config_path=config, show_progress=False, state_path=state)
    assert third.mode == "incremental" and third.decisions_emitted == {}
    fresh = tmp_path / "fresh"
    run(night_b, fresh, config_path=config, show_progress=False, state_path=tmp_path / "f.duckdb")
    assert _groups(out) == _groups(fresh)
    assert _queue(out) == _queue(fresh)


@pytest.mark.slow
def test_incremental_night_with_skipped_blocks_matches_a_full_rebuild(tmp_path, people):
    """New archives scored against everyone (Splink predict_between, partners found with
    the guarded rules) under the same skips as last night."""
    rows = [dict(r, birth_date="1960-05-17", region_code="620802100201") for r in people[:800]]
    # Block-limit skips only: they stay the same when 10 archives join (skips for the total
    # limit depend on the whole population, and a night whose skips change rebuilds in full).
    config = _config_with(tmp_path, max_block_pairs=300, max_pairs_per_archive=1000,
                          max_total_pairs=10**9)
    state, out = tmp_path / "state.duckdb", tmp_path / "out"
    first = run(write_archives(tmp_path / "a.csv", rows[:790]), out, config_path=config,
                show_progress=False, state_path=state)
    night_b = write_archives(tmp_path / "b.csv", rows)
    second = run(night_b, out, config_path=config, show_progress=False, state_path=state)
    assert first.guards["blocking"]["blocks_dropped"] > 1
    assert second.mode == "incremental" and second.changes["new"] == 10
    fresh = tmp_path / "fresh"
    full = run(night_b, fresh, config_path=config, show_progress=False,
               state_path=tmp_path / "f.duckdb")
    assert full.guards["blocking"]["dropped"] == second.guards["blocking"]["dropped"]
    assert _groups(out) == _groups(fresh)
    assert _queue(out) == _queue(fresh)


# -- soundness: the bound holds whatever the population and the limits ------------------------

@pytest.mark.parametrize("sql, sets", [
    ("l.county = r.county AND l.dob_best = r.dob_best AND (l.surname_py = r.surname_py "
     "OR l.given_py = r.given_py)", (("county", "dob_best", "surname_py"), ("county", "dob_best", "given_py"))),
    ("l.a = r.a OR l.b = r.b", (("a",), ("b",))),
    ("l.name_py = r.name_py AND l.dob_year = r.dob_year AND (abs(l.dob_days - r.dob_days) <= 60 "
     "OR l.dob_jan1)", (("name_py", "dob_year"),)),  # an alternative without a key: no split
    ("l.a = r.a AND (l.b = r.b OR l.a = r.a)", (("a", "b"), ("a",))),
    ("lower(l.a) = lower(r.a)", ()),
])
def test_rule_key_sets(sql, sets):
    from linkage.blocking_guard import rule_key_sets

    assert rule_key_sets(sql) == sets


def test_a_rule_that_cannot_be_bounded_is_refused():
    from dataclasses import replace

    from linkage.config import BlockingRule

    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 'A' || i AS archive_id, i % 3 AS a FROM range(10) r(i)")
    config = replace(load_config(), blocking_rules=(BlockingRule("fuzzy", "abs(l.a - r.a) <= 1"),))
    with pytest.raises(ConfigError, match="rule 'fuzzy' has no l.column = r.column"):
        guard_blocking(con, "t", config)


RULE_SET = (
    ("county_dob", "l.county = r.county AND l.dob = r.dob AND (l.surname = r.surname OR l.given = r.given)"),
    ("dob_surname", "l.dob = r.dob AND l.surname = r.surname AND (l.given = r.given OR l.sex = r.sex)"),
    ("given_dob", "l.given = r.given AND l.dob = r.dob"),
    ("either", "l.phone = r.phone OR l.id = r.id"),
)


@pytest.mark.parametrize("seed", range(12))
def test_guarded_rules_never_make_more_pairs_than_the_bound(seed):
    """Random populations with heavy repeats (a few dates, surnames, phones; one resident
    many times) and random limits: the distinct pairs the guarded rules propose are at most
    the bound after the guard, and that bound is within the total limit."""
    import random
    from dataclasses import replace

    from linkage.config import BlockingRule

    rng = random.Random(seed)
    n = rng.randint(50, 400)
    con = duckdb.connect()
    con.execute(f"""
        CREATE TABLE t AS SELECT 'A' || i AS archive_id,
            'c' || (hash(i, {seed}, 1) % {rng.randint(1, 3)}) AS county,
            DATE '1960-01-01' + (hash(i, {seed}, 2) % {rng.randint(1, 6)})::INTEGER AS dob,
            's' || (hash(i, {seed}, 3) % {rng.randint(1, 8)}) AS surname,
            'g' || (hash(i, {seed}, 4) % {rng.randint(2, 20)}) AS given,
            CASE WHEN hash(i, {seed}, 5) % 2 = 0 THEN 'M' ELSE 'F' END AS sex,
            CASE WHEN i < {rng.randint(0, 60)} THEN 'p0' ELSE 'p' || (hash(i, {seed}, 6) % {n}) END AS phone,
            CASE WHEN i < {rng.randint(0, 40)} THEN 'id0' ELSE 'id' || i END AS id
        FROM range({n}) r(i)
    """)
    limits = Limits(max_block_pairs=rng.randint(10, 3000), max_pairs_per_archive=rng.randint(1, 20),
                    max_total_pairs=rng.randint(100, 20000))
    config = replace(load_config(), limits=limits,
                     blocking_rules=tuple(BlockingRule(name, sql) for name, sql in RULE_SET))
    guarded, report = guard_blocking(con, "t", config)
    pairs = con.execute("SELECT count(*) FROM (" + " UNION ".join(
        f"SELECT l.archive_id, r.archive_id FROM t l JOIN t r ON ({rule.sql}) AND l.archive_id < r.archive_id"
        for rule in guarded.blocking_rules) + ")").fetchall()[0][0]
    unguarded = con.execute("SELECT count(*) FROM (" + " UNION ".join(
        f"SELECT l.archive_id, r.archive_id FROM t l JOIN t r ON ({sql}) AND l.archive_id < r.archive_id"
        for _, sql in RULE_SET) + ")").fetchall()[0][0]
    assert unguarded <= report.pairs_estimated
    assert pairs <= report.pairs_estimated_after_guard <= max(report.max_total_pairs, 0)
    if report.blocks_dropped == 0:
        assert guarded == config and pairs == unguarded


def test_a_skipped_blocks_county_is_the_most_common_with_ties_to_the_smallest_code():
    """summary.json must be the same run after run: mode() broke ties in no fixed order."""
    from linkage.blocking_guard import _Block, _describe, _Unit

    con = duckdb.connect()
    con.execute("""CREATE TABLE f AS SELECT * FROM (VALUES
        ('a', '620821', DATE '1960-05-17'), ('b', '620802', DATE '1960-05-17'),
        ('c', '620821', DATE '1960-05-17'), ('d', '620802', DATE '1960-05-17'),
        ('e', '620803', DATE '1960-05-17')) t(archive_id, county, dob_best)""")
    key_hash = con.execute("SELECT hash(DATE '1960-05-17')").fetchone()[0]
    unit = _Unit(rule=0, keyset=0, key=("dob_best",))
    block = _Block(unit=0, key_hash=int(key_hash), archives=5, pairs=10, members=0)
    for _ in range(5):
        [described] = _describe(con, "f", load_config(), [unit], [(block, "block limit")])
        assert described.county == "620802" and described.other_counties == 2


def test_a_limit_of_the_wrong_type_is_named_in_words(tmp_path):
    """"must be an integer", not Python's "must be a int" (acceptance test)."""
    path = _config_with(tmp_path, max_archives_per_phone='"x"')
    with pytest.raises(ConfigError, match=r"max_archives_per_phone must be an integer"):
        load_config(path)
