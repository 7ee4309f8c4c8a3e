"""What the review screen says about two masked phones (linkage.review.mask): the engine's
reading of the number, so one number typed two ways is "same" (acceptance test: "+86 139
9331 2345" and "139-9331-2345" showed as "different lengths (13 and 11)")."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linkage.review.mask import mask_phone, phone_relation
from linkage.standardise.phone import normalise_phone

_MOBILE = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)
_WRITTEN = [
    lambda n: n, lambda n: f"{n[:3]}-{n[3:7]}-{n[7:]}", lambda n: f"{n[:3]} {n[3:7]} {n[7:]}",
    lambda n: f"+86 {n}", lambda n: f"+86{n}", lambda n: f"0086-{n}", lambda n: f"86{n}",
    lambda n: f"（+86）{n}", lambda n: n.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
    lambda n: f"  {n}  ",
]


@given(_MOBILE, st.sampled_from(range(len(_WRITTEN))), st.sampled_from(range(len(_WRITTEN))))
def test_one_mobile_written_two_ways_is_the_same_and_masks_alike(number: str, i: int, j: int) -> None:
    left, right = _WRITTEN[i](number), _WRITTEN[j](number)
    assert normalise_phone(left) == normalise_phone(right) == number
    assert phone_relation(left, right) == "same"
    assert mask_phone(left) == mask_phone(right) == number[:3] + "****" + number[-4:]


@given(_MOBILE, _MOBILE)
def test_two_mobiles_relate_as_their_digits_do(a: str, b: str) -> None:
    relation = phone_relation(f"+86 {a}", b)
    assert (relation == "same") == (a == b)
    assert (phone_relation(a, b) == "same") == (phone_relation(b, a) == "same") == (a == b)


def test_missing_and_unreadable_numbers() -> None:
    assert phone_relation(None, "13912345678") == "one missing"
    assert phone_relation("", None) == "both missing"
    assert phone_relation("12345", "12345") == "same"  # too short to be a phone: as typed
