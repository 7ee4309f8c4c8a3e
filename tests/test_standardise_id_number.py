"""ID numbers: literal dirty values, and the MOD 11-2 properties. Synthetic IDs only."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.standardise.id_number import check_digit, is_one_typo, parse_id, sorted_id

TODAY = date(2026, 11, 23)


def _with_check(body17: str) -> str:
    return body17 + check_digit(body17)


@pytest.mark.parametrize(
    ("raw", "norm", "status"),
    [
        ("11010519491231002X", "11010519491231002X", "valid"),
        ("440524188001010014", "440524188001010014", "valid"),
        ("11010519491231002x", "11010519491231002X", "valid"),
        ("11010519491231002×", "11010519491231002X", "valid"),
        ("11010519491231002Ｘ", "11010519491231002X", "valid"),
        ("４４０５２４１８８００１０１００１４", "440524188001010014", "valid"),
        (" 110105 19491231-002X\t", "11010519491231002X", "valid"),
        ("'11010519491231002X", "11010519491231002X", "valid"),
        ('"11010519491231002X"', "11010519491231002X", "valid"),
        ("1101051949123100210", "11010519491231002X", "valid"),  # "10" typed for X
        ("110105491231002", "11010519491231002X", "valid"),  # legacy 15 digits
        ("4.40524E+17", None, "malformed"),  # Excel notation: unrecoverable
        ("440524188001010000", "440524188001010000", "bad_check"),  # Excel truncation
        ("11010519491231002", None, "malformed"),
        ("01010519491231002X", None, "malformed"),
        ("11010519491231003X", "11010519491231003X", "bad_check"),
        (_with_check("11010519880230002"), _with_check("11010519880230002"), "malformed"),
        (_with_check("11010530000101002"), _with_check("11010530000101002"), "malformed"),
        ("无", None, "placeholder"),
        ("不详", None, "placeholder"),
        ("NULL", None, "placeholder"),
        ("none", None, "placeholder"),
        ("空", None, "placeholder"),
        ("111111111111111111", None, "placeholder"),
        ("000000000000000000", None, "placeholder"),
        ("-", None, "placeholder"),
        ("", None, "blank"),
        ("   ", None, "blank"),
        ("\u3000", None, "blank"),
        (None, None, "blank"),
    ],
)
def test_parse_id_dirty_values(raw: str | None, norm: str | None, status: str) -> None:
    info = parse_id(raw, TODAY)
    assert (info.norm, info.status) == (norm, status)


def test_parse_id_reads_birth_date_and_sex() -> None:
    info = parse_id("11010519491231002X", TODAY)
    assert (info.dob, info.sex) == (date(1949, 12, 31), "F")
    assert parse_id("440524188001010014", TODAY).sex == "M"
    bad_date = parse_id("11010519880230002X", TODAY)
    assert bad_date.dob is None and bad_date.sex == "F"


def test_legacy_centenarian_sequence_means_born_in_1800s() -> None:
    body = "110105" + "18" + "800101" + "996"
    info = parse_id("110105800101996", TODAY)
    assert info.norm == _with_check(body)
    assert info.dob == date(1880, 1, 1) and info.status == "valid"


def test_future_embedded_date_is_not_valid() -> None:
    future = _with_check("11010520300101002")
    assert parse_id(future, TODAY).status == "malformed"
    assert parse_id(future, date(2031, 1, 1)).status == "valid"


def test_check_digit_examples_and_errors() -> None:
    assert check_digit("11010519491231002") == "X"
    assert check_digit("44052418800101001") == "4"
    with pytest.raises(ValueError):
        check_digit("1234")
    with pytest.raises(ValueError):
        check_digit("１１０１０５１９４９１２３１００２")


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("11010519491231002X", "11010519491231003X", True),  # one substitution
        ("11010519491231002X", "11010519491213002X", True),  # adjacent swap
        ("11010519491231002X", "11010519491231002X", False),  # identical
        ("11010519491231002X", "11010519491231013X", False),  # two substitutions
        ("11010519491231002X", "1101051949123100", False),  # different length
    ],
)
def test_is_one_typo(a: str, b: str, expected: bool) -> None:
    assert is_one_typo(a, b) is expected


def test_swap_ten_apart_is_one_typo_the_check_cannot_see() -> None:
    valid = "11010519491231002X"
    swapped = valid[0] + valid[11] + valid[2:11] + valid[1] + valid[12:]  # weights 9 and 9
    assert swapped != valid and is_one_typo(valid, swapped)
    assert check_digit(swapped[:17]) == swapped[17]


def test_sorted_id_equal_for_a_transposition() -> None:
    assert sorted_id("11010519491231002X") == sorted_id("11010519491213002X")
    assert sorted_id(None) is None


# ---- properties ------------------------------------------------------------------------

born = st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 1, 1))
bodies = st.builds(
    lambda area, dob, seq: f"{area}{dob:%Y%m%d}{seq:03d}",
    st.integers(110000, 999999).map(str),
    born,
    st.integers(0, 999),
)


@given(bodies)
def test_generated_body_with_its_check_digit_validates(body: str) -> None:
    info = parse_id(body + check_digit(body), TODAY)
    assert info.status == "valid"
    assert info.dob == date(int(body[6:10]), int(body[10:12]), int(body[12:14]))


@given(bodies)
def test_every_single_character_change_fails_the_check(body: str) -> None:
    valid = body + check_digit(body)
    for i in range(18):
        for c in "0123456789X" if i == 17 else "0123456789":
            if c != valid[i]:
                changed = valid[:i] + c + valid[i + 1 :]
                assert check_digit(changed[:17]) != changed[17]
                assert parse_id(changed, TODAY).status != "valid"


@given(bodies, st.integers(0, 16))
def test_adjacent_swap_is_one_typo_and_fails_the_check(body: str, i: int) -> None:
    valid = body + check_digit(body)
    swapped = valid[:i] + valid[i + 1] + valid[i] + valid[i + 2 :]
    if swapped != valid:
        assert is_one_typo(valid, swapped)
        assert parse_id(swapped, TODAY).status != "valid"


@settings(max_examples=300)
@given(st.one_of(st.none(), st.text(max_size=30), st.text("0123456789Xx×Ｘ０ -'\"", max_size=22)))
def test_parse_id_never_raises_and_is_idempotent(raw: str | None) -> None:
    info = parse_id(raw, TODAY)
    assert info.status in {"blank", "placeholder", "malformed", "bad_check", "valid"}
    if info.norm is not None:
        assert len(info.norm) == 18
        again = parse_id(info.norm, TODAY)
        assert (again.norm, again.status, again.dob, again.sex) == (
            info.norm, info.status, info.dob, info.sex
        )


@given(st.lists(st.one_of(st.none(), st.text(alphabet="0123456789X", min_size=18, max_size=18),
                          st.text(max_size=20)), max_size=30))
def test_sorted_ids_of_a_column_equals_sorted_id_of_each(values: list[str | None]) -> None:
    """The numpy column form (18-byte rows) and the per-value reference agree, whatever
    the lengths and NULLs (a column that is not all 18 bytes takes the per-value path)."""
    import pyarrow as pa

    from linkage.standardise.id_number import sorted_ids

    column = pa.array(values, pa.string())
    assert sorted_ids(column).to_pylist() == [sorted_id(v) for v in values]
    # 18 bytes that are not 18 characters (found by this test): sorted as characters
    odd = pa.array(["0\x80\u0800\U00010000\U00010000\U00010000", "620802195003140021"])
    assert sorted_ids(odd).to_pylist() == [sorted_id(v) for v in odd.to_pylist()]
    chunked = pa.chunked_array([column.slice(0, len(values) // 2), column.slice(len(values) // 2)], pa.string())
    assert sorted_ids(chunked).to_pylist() == [sorted_id(v) for v in values]
