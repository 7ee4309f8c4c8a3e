"""The id_only baseline on a hand-made table, and the plain Splink settings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.bench.baselines import id_only, id_only_sql, splink_plain_settings

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def with_check(body: str) -> str:
    """GB 11643 MOD 11-2, written out independently of the code under test."""
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS)) % 11]


def test_check_rule_matches_the_standard_examples() -> None:
    assert with_check("11010519491231002") == "11010519491231002X"
    assert with_check("44052418800101001") == "440524188001010014"


V1 = with_check("11010519491231002")  # ends in X
V2 = with_check("44052418800101001")
V2_TYPO = V2[:8] + str((int(V2[8]) + 1) % 10) + V2[9:]  # one digit off: fails the check
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

ROWS = [
    ("a1", V1),
    ("a2", f" {V1[:6]}-{V1[6:14]} {V1[14:].lower()} "),  # spaces, hyphen, lowercase x
    ("a3", V1.translate(FULL_WIDTH)),
    ("a4", V1[:6] + V1[8:17]),                              # legacy 15 digits
    ("b1", V2),
    ("b2", V2_TYPO),
    ("c1", ""), ("c2", ""),                                 # blank IDs never join
    ("d1", "111111111111111111"), ("d2", "111111111111111111"),  # placeholder, bad check
    ("e1", "4.40524E+17"),                                  # Excel notation
    ("f1", "无"), ("f2", "无"),
]


def _write(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "archives.csv"
    lines = ["archive_id,name,sex,birth_date,id_number,region_code,address,phone,created_date,last_service_date"]
    lines += [f'{a},名,男,1949-12-31,"{i}",110105001001,,,2020-01-01,' for a, i in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_id_only_groups_normalised_valid_ids_and_leaves_the_rest_alone(tmp_path: Path) -> None:
    result = id_only(duckdb.connect(), _write(tmp_path, ROWS))
    cluster = dict(zip(result.clusters["archive_id"].to_pylist(), result.clusters["cluster_id"].to_pylist()))
    groups: dict[str, set[str]] = {}
    for archive, c in cluster.items():
        groups.setdefault(c, set()).add(archive)
    assert sorted(map(sorted, groups.values())) == sorted(
        [["a1", "a2", "a3", "a4"], ["b1"], ["b2"], ["c1"], ["c2"], ["d1"], ["d2"], ["e1"], ["f1"], ["f2"]])
    assert result.pairs_compared == 6
    assert set(result.stage_seconds) == {"read", "link"}


@settings(max_examples=25, deadline=None)
@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_sql_check_character_agrees_with_the_rule(body: str) -> None:
    con = duckdb.connect()
    valid, bad = with_check(body), body + ("0" if with_check(body)[-1] != "0" else "1")
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('v', ?), ('b', ?)) x(archive_id, id_number)",
                [valid, bad])
    got = dict(con.execute(id_only_sql("t")).fetchall())
    assert got == {"v": "id:" + valid, "b": "archive:b"}


def test_splink_plain_is_described_without_a_database() -> None:
    settings_dict = splink_plain_settings().get_settings("duckdb").as_dict()
    names = [c["output_column_name"] for c in settings_dict["comparisons"]]
    assert names == ["name", "birth_date", "id_number", "sex", "phone", "address"]
    assert len(settings_dict["blocking_rules_to_generate_predictions"]) == 3


@pytest.mark.parametrize("raw", ["", "   ", "NULL"])
def test_junk_ids_are_singletons(raw: str) -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT * FROM (VALUES ('x', ?)) v(archive_id, id_number)", [raw])
    assert con.execute(id_only_sql("t")).fetchall() == [("x", "archive:x")]


@pytest.mark.slow
def test_splink_plain_reports_its_pair_count_as_soon_as_it_is_known(tmp_path: Path) -> None:
    from linkage.bench.baselines import splink_plain
    from linkage.synth import generate_population

    summary = generate_population(150, 3, tmp_path)
    events: list[tuple[str, dict]] = []
    result = splink_plain(duckdb.connect(), tmp_path / "archives.csv",
                          progress=lambda stage, facts: events.append((stage, facts)))
    stages = ["read", "count_pairs", "train", "predict", "cluster"]
    assert [(s, f["current_stage"]) for s, f in events] == [
        (s, c) for s in stages for c in (s, None)]  # each stage reported as it starts and ends
    ended = {s: f for s, f in events if f["current_stage"] is None}
    assert ended["count_pairs"]["pairs_compared"] == result.pairs_compared > 0
    assert "pairs_compared" not in dict(events)["read"]
    assert result.clusters.num_rows == summary.archives
