"""Phone and sex: literal dirty values and properties. Synthetic numbers only."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage.standardise.phone import normalise_phone
from linkage.standardise.sex import normalise_sex


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13800138000", "13800138000"),
        ("138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("86-13800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),
        ("13800138000/13900139000", "13800138000"),  # two numbers: the first mobile
        ("0933-8123456", "09338123456"),
        ("(0933)8123456", "09338123456"),
        ("8123456", "8123456"),
        ("86123456789", "86123456789"),  # 11 digits: not a country code
        ("00000000", None),
        ("13333333333", "13333333333"),
        ("11111111111", None),
        ("12345678901", None),
        ("1234567", None),
        ("123456", None),
        ("无", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_phone(raw: str | None, expected: str | None) -> None:
    assert normalise_phone(raw) == expected


@given(st.one_of(st.none(), st.text(max_size=25), st.text("0123456789+-() ８６", max_size=25)))
def test_normalise_phone_is_idempotent_and_never_raises(raw: str | None) -> None:
    phone = normalise_phone(raw)
    if phone is not None:
        assert phone.isascii() and phone.isdigit()
        assert normalise_phone(phone) == phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("男", "M"), ("男性", "M"), ("1", "M"), ("１", "M"), ("M", "M"), ("m", "M"), ("Ｍ", "M"),
        ("male", "M"), ("Male", "M"), ("MALE", "M"), (" 男 ", "M"), ("\u3000男", "M"),
        ("女", "F"), ("女性", "F"), ("2", "F"), ("F", "F"), ("female", "F"), ("FEMALE", "F"),
        ("0", None), ("9", None), ("未知", None), ("不详", None), ("", None), (None, None),
        ("男女", None), ("12", None),
    ],
)
def test_normalise_sex(raw: str | None, expected: str | None) -> None:
    assert normalise_sex(raw) == expected


@given(st.one_of(st.none(), st.text(max_size=10)))
def test_normalise_sex_never_raises(raw: str | None) -> None:
    assert normalise_sex(raw) in {"M", "F", None}
