"""Score one engine run against the independent generator's truth.

    python benchmarks/independent/evaluate.py DATA_DIR OUT_DIR [--json]

``DATA_DIR`` is what ``generate.py`` wrote (truth.csv, hardneg.csv, movers.csv, archives.csv)
or what ``linkage synth`` wrote (archives.csv, truth.csv with kinds, hard_negatives.csv),
whose truth is converted in memory (:func:`synth_truth`); ``OUT_DIR`` is what ``linkage run``
wrote (clusters.csv, decisions.csv).  Reads only those CSV files - nothing from the engine -
so the scoring cannot share the engine's assumptions.

Pairs are archive pairs.  "Auto" means the two archives got the same person_id.  "With review"
also counts a true pair as found when a review row joins the two clusters it ended up in (a
reviewer confirming that row would link it).
"""

from __future__ import annotations

import argparse
import collections
import csv
import itertools
import json
from pathlib import Path
from typing import Any

# tags describing where a later archive was filed rather than what went wrong with it
PLACEMENT_TAGS = {"dup", "move", "same_village", "other_township"}

# (metric key, target as shown); the tests themselves are in check_targets
TARGETS: list[tuple[str, str]] = [
    ("precision_auto", "precision (auto) ≥ 0.999"),
    ("wrong_pairs_per_100k", "wrong pairs per 100k archives ≤ 10"),
    ("recall_auto", "recall (auto) ≥ 0.95"),
    ("recall_with_review", "recall counting review ≥ 0.99"),
    ("review_share", "review rows ≤ 1% of archives"),
    ("twin_links", "false links between twins = 0"),
    ("child_parent_id_links", "false links child ↔ parent whose ID it carries = 0"),
    ("mover_target_accuracy", "movers linked to the right target county ≥ 99%"),
]


# linkage synth hard-negative tags -> this evaluator's types
SYNTH_HARDNEG_TYPES = {
    "twins": "twin", "spouses": "spouse", "child_parent_id": "child_parent_id",
    "namesake_cross_county": "namesake_cross_county", "same_name_dob_county": "namesake_same_county",
}

Rows = list[dict[str, str]]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def is_synth_truth(data: Path) -> bool:
    """True for a folder as ``linkage synth`` wrote it: truth.csv has kinds
    (``original:address_abbrev``) but no tags, and hard pairs are in hard_negatives.csv."""
    header = _header(data / "truth.csv")
    return "tags" not in header and "kind" in header and (data / "hard_negatives.csv").is_file()


def synth_truth(data: Path) -> tuple[Rows, Rows, Rows]:
    """``linkage synth``'s truth in this evaluator's format: truth rows (archive_id,
    person_id, kind, county, tags), hard-negative person pairs (person_a, person_b, type) and
    movers (person_id, old_county, new_county, new_archive_id)."""
    archives = {r["archive_id"]: r for r in _read(data / "archives.csv")}
    truth = _read(data / "truth.csv")
    rows = []
    county_of_person: dict[str, dict[str, str]] = {}
    movers = []
    for r in truth:
        kind, _, corruptions = r["kind"].partition(":")
        county = archives[r["archive_id"]]["region_code"][:6]
        tags = [t for t in corruptions.split("+") if t]
        rows.append({"archive_id": r["archive_id"], "person_id": r["person_id"], "kind": kind,
                     "county": county, "tags": " ".join(tags + ([kind] if kind != "original" else []))})
        county_of_person.setdefault(r["person_id"], {})[kind] = county
    for r in truth:
        kind = r["kind"].partition(":")[0]
        first = county_of_person[r["person_id"]].get("original")
        if kind == "moved" and first and first != archives[r["archive_id"]]["region_code"][:6]:
            movers.append({"person_id": r["person_id"], "old_county": first,
                           "new_county": archives[r["archive_id"]]["region_code"][:6],
                           "new_archive_id": r["archive_id"]})
    person = {r["archive_id"]: r["person_id"] for r in truth}
    hardneg = []
    for r in _read(data / "hard_negatives.csv"):
        a, b = person.get(r["archive_id_l"]), person.get(r["archive_id_r"])
        if a and b and a != b:
            hardneg.append({"person_a": a, "person_b": b,
                            "type": SYNTH_HARDNEG_TYPES.get(r["tag"], r["tag"])})
    return rows, hardneg, movers


def load_truth(data: Path) -> tuple[Rows, Rows, Rows]:
    """Truth rows, hard-negative person pairs and movers of ``data``, in either format."""
    if is_synth_truth(data):
        return synth_truth(data)
    return _read(data / "truth.csv"), _read(data / "hardneg.csv"), _read(data / "movers.csv")


def _pairs(key: dict[str, str]) -> tuple[set[tuple[str, str]], dict[str, list[str]]]:
    """All archive pairs sharing a value of ``key``, and the groups themselves."""
    groups: dict[str, list[str]] = collections.defaultdict(list)
    for archive, value in key.items():
        groups[value].append(archive)
    pairs = {(x, y) for members in groups.values() for x, y in itertools.combinations(sorted(members), 2)}
    return pairs, groups


def evaluate(data: Path, out: Path, examples: int = 30) -> dict[str, Any]:
    """All metrics of one run as a JSON-ready dict (``examples`` false links are listed in full)."""
    truth_rows, hardneg_rows, movers = load_truth(data)
    truth = {r["archive_id"]: r for r in truth_rows}
    pid = {a: r["person_id"] for a, r in truth.items()}
    tags = {a: set(r["tags"].split()) for a, r in truth.items()}
    clus = {r["archive_id"]: r["person_id"] for r in _read(out / "clusters.csv")}
    dec = _read(out / "decisions.csv")
    n = len(truth)

    true_pairs, byperson = _pairs(pid)
    pred_pairs, bycluster = _pairs(clus)
    tp, fp, fn = true_pairs & pred_pairs, pred_pairs - true_pairs, true_pairs - pred_pairs

    review = [d for d in dec if d["action"] == "review"]
    rev_pairs = {tuple(sorted((d["archive_id"], d["survivor_archive_id"]))) for d in review}
    rev_clusters = {tuple(sorted((str(clus.get(a)), str(clus.get(b))))) for a, b in rev_pairs}

    def found_with_review(pair: tuple[str, str]) -> bool:
        a, b = pair
        return pair in pred_pairs or tuple(sorted((str(clus.get(a)), str(clus.get(b))))) in rev_clusters

    found_rev = sum(1 for p in true_pairs if found_with_review(p))

    # ---- hard negatives (person pairs that must stay apart)
    hn: dict[tuple[str, str], set[str]] = collections.defaultdict(set)
    for r in hardneg_rows:
        hn[(r["person_a"], r["person_b"])].add(r["type"])
        hn[(r["person_b"], r["person_a"])].add(r["type"])
    hn_total: collections.Counter[str] = collections.Counter()
    for (a, b), types in hn.items():
        if a < b:
            hn_total.update(types)
    fp_by_type: collections.Counter[str] = collections.Counter()
    for x, y in fp:
        fp_by_type.update(hn.get((pid[x], pid[y]), {"unrelated"}))
    review_nonmatch: collections.Counter[str] = collections.Counter()
    for x, y in rev_pairs:
        if pid[x] != pid[y]:
            review_nonmatch.update(hn.get((pid[x], pid[y]), {"unrelated"}))

    # ---- movers: once old and new archive are linked, every merge/migrate row of the cluster
    # must point into the county the person moved to
    dec_by_aid: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for d in dec:
        dec_by_aid[d["archive_id"]].append(d)
        if d["action"] == "review":
            dec_by_aid[d["survivor_archive_id"]].append(d)
    linked = correct = 0
    wrong_target: list[dict[str, Any]] = []
    for m in movers:
        new = m["new_archive_id"]
        old = [a for a in byperson[m["person_id"]] if truth[a]["county"] == m["old_county"]]
        if not any(clus[new] == clus[o] for o in old):
            continue
        linked += 1
        rows = [d for a in bycluster[clus[new]] for d in dec_by_aid[a] if d["action"] in ("migrate", "merge")]
        targets = {d["to_region"][:6] for d in rows}
        if targets == {m["new_county"]}:
            correct += 1
        else:
            wrong_target.append({"person_id": m["person_id"], "new_county": m["new_county"],
                                 "got": sorted(targets), "actions": [d["action"] for d in rows]})
    # a cluster spanning counties must be migrated, one within a county merged
    inconsistent = 0
    for d in dec:
        if d["action"] in ("merge", "migrate"):
            counties = {truth[a]["county"] for a in bycluster[clus[d["archive_id"]]]}
            inconsistent += (len(counties) > 1) != (d["action"] == "migrate")

    # ---- recall by corruption tag: pairs where either archive carries the tag
    by_tag: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0, 0])
    for p in true_pairs:
        ts = (tags[p[0]] | tags[p[1]]) - PLACEMENT_TAGS or {"(clean)"}
        kind = "move" if truth[p[0]]["county"] != truth[p[1]]["county"] else "same_county"
        auto = p in pred_pairs
        with_review = auto or found_with_review(p)
        for t in ts | {"@" + kind}:
            s = by_tag[t]
            s[0] += 1
            s[1] += auto
            s[2] += with_review
    missed_by_tag: collections.Counter[str] = collections.Counter()
    for p in fn:
        if not found_with_review(p):
            missed_by_tag.update((tags[p[0]] | tags[p[1]]) - PLACEMENT_TAGS)

    # ---- the false links themselves, to read
    recs = {r["archive_id"]: r for r in _read(data / "archives.csv")}
    shown = ("name", "sex", "birth_date", "id_number", "region_code", "phone")
    false_links = [{"types": sorted(hn.get((pid[x], pid[y]), {"unrelated"})),
                    "a": {"archive_id": x, **{k: recs[x][k] for k in shown}},
                    "b": {"archive_id": y, **{k: recs[y][k] for k in shown}}}
                   for x, y in sorted(fp)[:examples]]

    return {
        "archives": n,
        "persons": len(byperson),
        "clusters": len(bycluster),
        "missing_from_clusters": len(set(truth) - set(clus)),
        "true_pairs": len(true_pairs),
        "auto_pairs": len(pred_pairs),
        "true_positive_pairs": len(tp),
        "false_positive_pairs": len(fp),
        "false_negative_pairs": len(fn),
        "precision_auto": len(tp) / max(1, len(pred_pairs)),
        "wrong_pairs_per_100k": len(fp) / n * 1e5,
        "recall_auto": len(tp) / max(1, len(true_pairs)),
        "recall_with_review": found_rev / max(1, len(true_pairs)),
        "review_rows": len(review),
        "review_share": len(review) / n,
        "review_true_match_share": sum(1 for p in rev_pairs if p in true_pairs) / max(1, len(review)),
        "actions": dict(collections.Counter(d["action"] for d in dec)),
        "hard_negative_person_pairs": dict(hn_total),
        "false_links_by_type": dict(fp_by_type),
        "review_nonmatch_by_type": dict(review_nonmatch),
        "twin_links": fp_by_type.get("twin", 0),
        "child_parent_id_links": fp_by_type.get("child_parent_id", 0),
        "movers": len(movers),
        "movers_linked": linked,
        "movers_linked_share": linked / max(1, len(movers)),
        "mover_target_correct": correct,
        "mover_target_wrong": len(wrong_target),
        "mover_target_accuracy": correct / linked if linked else None,
        "mover_wrong_target_examples": wrong_target[:examples],
        "merge_migrate_inconsistent": inconsistent,
        "recall_by_tag": {t: {"pairs": s[0], "auto": s[1] / s[0], "with_review": s[2] / s[0]}
                          for t, s in sorted(by_tag.items(), key=lambda kv: (kv[1][1] / kv[1][0], kv[0]))},
        "missed_by_tag": dict(missed_by_tag.most_common()),
        "false_links": false_links,
    }


def check_targets(m: dict[str, Any]) -> list[dict[str, Any]]:
    """Each acceptance target with the measured value and whether it is met."""
    tests = {
        "precision_auto": lambda v: v >= 0.999,
        "wrong_pairs_per_100k": lambda v: v <= 10,
        "recall_auto": lambda v: v >= 0.95,
        "recall_with_review": lambda v: v >= 0.99,
        "review_share": lambda v: v <= 0.01,
        "twin_links": lambda v: v == 0,
        "child_parent_id_links": lambda v: v == 0,
        "mover_target_accuracy": lambda v: v is not None and v >= 0.99,
    }
    return [{"key": key, "target": label, "value": m[key], "met": bool(tests[key](m[key]))}
            for key, label in TARGETS]


def summary_lines(m: dict[str, Any]) -> list[str]:
    """A short plain-text report (the head of the original eval.py output)."""
    lines = [
        f"archives {m['archives']}  persons {m['persons']}  clusters-out {m['clusters']}  "
        f"missing-from-clusters {m['missing_from_clusters']}",
        f"true pairs {m['true_pairs']}  auto pairs {m['auto_pairs']}  TP {m['true_positive_pairs']}  "
        f"FP {m['false_positive_pairs']}  FN {m['false_negative_pairs']}",
        f"PRECISION auto {m['precision_auto']:.5f}   wrong pairs per 100k archives {m['wrong_pairs_per_100k']:.1f}",
        f"RECALL auto {m['recall_auto']:.4f}   with review {m['recall_with_review']:.4f}",
        f"review rows {m['review_rows']} = {m['review_share'] * 100:.2f}% of archives;  "
        f"true-match share of review rows {m['review_true_match_share']:.3f}",
        f"decision actions: {m['actions']}",
        f"hard-negative person pairs: {m['hard_negative_person_pairs']}",
        f"FALSE auto links (archive pairs) by type: {m['false_links_by_type']}",
        f"review rows on non-matches by type: {m['review_nonmatch_by_type']}",
        f"movers {m['movers']}: linked old<->new {m['movers_linked']} ({m['movers_linked_share']:.3f});  "
        f"target county correct {m['mover_target_correct']}, wrong {m['mover_target_wrong']}",
        f"merge/migrate rows inconsistent with cluster counties: {m['merge_migrate_inconsistent']}",
        "",
        "targets:",
    ]
    lines += [f"  [{'ok' if t['met'] else 'MISS'}] {t['target']}: {t['value']}" for t in check_targets(m)]
    lines += ["", "recall by tag: tag  pairs  auto  +review"]
    lines += [f"  {t:24s} {s['pairs']:5d}  {s['auto']:6.3f}  {s['with_review']:6.3f}"
              for t, s in m["recall_by_tag"].items()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data", type=Path, help="folder written by generate.py or `linkage synth`")
    parser.add_argument("out", type=Path, help="folder written by `linkage run`")
    parser.add_argument("--json", action="store_true", help="print all metrics as JSON")
    args = parser.parse_args()
    metrics = evaluate(args.data, args.out)
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False, indent=1))
    else:
        print("\n".join(summary_lines(metrics)))


if __name__ == "__main__":
    main()
