"""From clusters to decisions: who survives, where the resident lives now, merge or migrate.

Rules (README "Decisions"):
* survivor: the archive with the longest history (earliest created_date), then one with a
  valid ID, then the most complete, then the smallest archive_id (so reruns agree);
* target region: region_code of the archive with the latest last_service_date, else the
  latest created_date — where the resident is being served now;
* each retired archive gets one row: ``merge`` when the whole cluster is in one county,
  ``migrate`` when it spans counties (the survivor is to be managed in the target region).
  ``from_region`` is where the survivor is managed now and ``to_region`` the target, so a
  row reads: retire ``archive_id`` into ``survivor_archive_id``, then move the survivor
  from ``from_region`` to ``to_region`` (a no-op when they are equal).

The per-pair guard decides which scored pairs may join archives automatically at all: a
high score built on similar-but-different names, or an ID number shared with someone whose
birth date it does not match, is the shape of a twin or of a child filed under a parent's
ID, so such pairs go to a reviewer however high they score.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from linkage.schema import COUNTY_CODE_WIDTH

_STRONG_NAME = {"name.exact", "name.homophone", "name.fuzzy_pinyin"}
_SIMILAR_NAME = {"name.lookalike", "name.one_char", "name.dropped_char", "name.pinyin_close",
                 "name.chars_swapped"}
_DIFFERENT_NAME = {"name.different", "name.surname_only"}


def born_before_created(left: "ArchiveFacts", right: "ArchiveFacts") -> bool:
    """True if one archive was opened before the other record's person was born."""
    return any(
        a.created_date is not None and b.dob_best is not None and a.created_date < b.dob_best
        for a, b in ((left, right), (right, left))
    )


# Birth-date levels that say one of the two dates is a typo: it cannot prove anything.
_DOB_TYPO = {"dob.day_month_swapped", "dob.lunar", "dob.lunar_shift", "dob.year_off", "dob.year_only"}


# Location levels that put both archives in one household (same address or same phone).
_HOUSEHOLD = {"location.address_phone", "location.address", "location.phone"}
# ...or near it: the same address written another way, or the same village.
_NEAR_HOME = _HOUSEHOLD | {"location.address_close", "location.village"}
_PLACEHOLDER_NAME = "name.placeholder"
# Public for the SQL that fetches newborn pairs below the review band (linkage.newborn).
HOUSEHOLD_LEVELS = frozenset(_HOUSEHOLD)
PLACEHOLDER_NAME = _PLACEHOLDER_NAME
_NO_PLACE_IN_COMMON = {"location.address_close", "location.township", "location.county",
                       "location.other_county", "location.no_region"}
_TWIN_LIKE_NAME = {"name.homophone", "name.fuzzy_pinyin", "name.lookalike", "name.dropped_char"}


# Reasons whose pairs were never one person in any measured review queue, so they are not
# queued: the engine's "different", not a reviewer's chore.  Two valid IDs, each the ID of a
# different person already in the group, and an archive opened before the other record's
# person was born (with no birth-date typo level to explain it).  Measured: reviewers' verdicts
# on four populations 0 of 7 and 0 of 6 (linkage.review.triage); shipped model at 30k persons,
# seed 202: 0 of 3 (synth), 0 of 2 (independent), 0 of 1 (gen3).
NOT_QUEUED_REASONS = frozenset({
    "valid IDs of two different people",
    "an archive predates the other record's birth",
})


def pair_guard(
    levels: Mapping[str, str],
    probability: float = 1.0,
    auto_without_id: float = 0.0,
    impossible_dates: bool = False,
    sole_newborn: bool = False,
    moved_together: bool = False,
) -> str:
    """Why this pair may not be joined automatically, or '' if it may.

    ``levels`` maps each comparison to the pair's level code (``name.homophone``, see
    linkage.model.comparisons.LEVELS): codes, never display labels, so renaming a label
    cannot weaken a guard.

    ``auto_without_id`` is the (higher) probability a pair needs when no ID number
    confirms it: same name, birth date and county is exactly what two namesakes share.
    It is not asked of one household's pair (same address or phone) with the same name:
    namesakes in one household are told apart by the name itself (张伟(大)/(小)).

    The guards are levels, not special cases: an ID number that is the same on both
    records but fits only one of them confirms the pair when name and birth date agree
    (the other record's sex was typed wrong); a newborn placeholder name (王芳之子) means
    "name unknown", so only an ID may confirm it, or ``sole_newborn``: the pair is the
    placeholder and the one named archive born within weeks of it in its household.
    ``moved_together``: another candidate pair links the same two households
    (linkage.comove); for a pair of moved_with_household's shape it stands in for the ID
    or the shared place that namesakes lack.
    """
    name = levels.get("name", "name.null")
    id_level = levels.get("id", "id.null")
    dob = levels.get("dob", "dob.null")
    sex = levels.get("sex", "sex.null")
    household = levels.get("location") in _HOUSEHOLD
    id_confirms = id_level == "id.exact"
    # One ID on both records, fitting one of them: with the same name and the same birth
    # date, or one a typo of the other (lunar, a year off, day and month swapped), the
    # record it does not fit has a mistyped sex or birth date.  Measured at 30k persons:
    # 71 of 71 such review pairs were one person (synth 9, independent 24, gen3 38).
    sex_typo_id = id_level == "id.shared_not_fitting" and name in _STRONG_NAME and (
        dob == "dob.exact" or dob in _DOB_TYPO)
    id_supports = id_confirms or sex_typo_id or id_level == "id.one_typo"
    if impossible_dates and dob not in _DOB_TYPO:
        return "an archive predates the other record's birth"
    if name == _PLACEHOLDER_NAME:
        if id_confirms:
            return ""
        # The household's only named archive born within weeks of it (linkage.newborn).
        if sole_newborn and dob != "dob.different" and household and sex != "sex.different" \
                and id_level in ("id.null", "id.one_typo"):
            return ""
        return "newborn placeholder name (name unknown) and no matching ID"
    same_household_name = household and name in _STRONG_NAME
    if moved_together and moved_with_household(levels):
        same_household_name = id_supports = True
    if not id_supports and not same_household_name and probability < auto_without_id:
        return "no ID confirms it and the score is below the threshold for ID-less links"
    if not id_supports and levels.get("location", "") in _NO_PLACE_IN_COMMON:
        # Name and birth date agree, nothing places them in one village or household and
        # no ID confirms it: what namesakes share.  How rare the name is decides the score,
        # and that is a bet on the population, so a reviewer (or verdicts learned from
        # reviewers for this pattern) decides.
        return "no ID and no shared address, phone or village (namesakes?)"
    if name in _DIFFERENT_NAME:
        return "names differ"
    if name in _TWIN_LIKE_NAME and dob == "dob.exact" and not id_supports:
        # Twins share a birth date and often a home; names that sound or look alike, or
        # one with a character more (王佳/王佳怡), are how their names differ, and nothing
        # but an ID tells them from a typo - wherever they live now.
        return "similar names, same birth date, no matching ID (twins?)"
    if name in _TWIN_LIKE_NAME and dob in _DOB_TYPO and not id_supports:
        # The same, with one twin's birth date mistyped (a year off, lunar, swapped): the
        # independent generator at 1M persons joined twins 章丽婷/张莉婷 (one year apart,
        # one phone) at p = 0.99999.  Cost at 30k persons, four generators, seeds 202/303:
        # 34 automatic links (all one person) go to review instead.
        return "similar names, birth dates a typo apart, no matching ID (twins?)"
    if name == "name.one_char":
        # Twins: same birth date, sex and home, given names one character apart, and a
        # duplicate archive filed under the sibling's ID makes even the ID agree.
        return "names one character apart (twins?)"
    if sex == "sex.different" and not (id_confirms or sex_typo_id):
        # A sex typo is joined when an ID supports it (one ID on both records fitting one,
        # or a one-typo ID) with the same name and birth date.  Not on a shared home alone:
        # that is the shape of opposite-sex twins whose archives carry one name (a clerk
        # typed the sibling's name), and generator4 at 1M persons joined two such pairs
        # (张子睿 男/女, one address).  Cost at 30k persons, four generators, seeds 202/303:
        # 86 automatic links (all one person) go to review, where learned verdicts
        # (linkage.model.verdicts) may join them again for a site whose reviewers agree.
        typo_ok = name in _STRONG_NAME and dob == "dob.exact" and id_supports
        if not typo_ok:
            return "sexes differ and no matching ID"
    if name == "name.null" and not id_confirms:
        return "no name and no matching ID"
    # Swapped characters (李梅红/李红梅) with the same birth date in one household are a
    # typo (alike and dropped characters with the same birth date went to review above, as
    # twins' names look like that); one ID on both records fitting one of them confirms a
    # near name.  Other near names need the ID.
    household_ok = household and dob == "dob.exact" and sex != "sex.different"
    shared_id_ok = id_level == "id.shared_not_fitting" and (dob == "dob.exact" or dob in _DOB_TYPO)
    if name in _SIMILAR_NAME and not id_confirms and not (household_ok or shared_id_ok):
        return "names only similar and no matching ID"
    if id_level == "id.shared_not_fitting" and dob in {"dob.different", "dob.within_year"}:
        return "shared ID but birth dates differ"
    if dob == "dob.different" and not id_confirms:
        return "birth dates differ and no matching ID"
    return ""


def one_person_at_home(levels: Mapping[str, str]) -> bool:
    """Pairs joined whatever their score (above the review threshold, where scored pairs
    are kept): the same full name in one household (same address or phone), the same sex,
    no conflicting ID, and birth dates that agree up to a typo (lunar, a year off, swapped).
    Who else in one household has the same name and nearly the same birth date?  Twins have
    other names, parents and children other dates.  Measured at 30k persons, queued pairs
    of this shape were one person: independent 8 of 8, generator3 8 of 8.  A birth date
    missing on one side is not enough (a same-named relative sharing a phone: a false link
    on the repo synth).  The guards (pair_guard) still apply."""
    return (levels.get("name") == "name.exact" and levels.get("location") in _HOUSEHOLD
            and levels.get("sex") != "sex.different" and levels.get("id") in ("id.null", "id.one_typo")
            and levels.get("dob") in _DOB_TYPO)


def newborn_at_home(levels: Mapping[str, str]) -> bool:
    """A newborn placeholder archive (王芳之子) and an archive of its household (same address
    or phone), of the same sex, with no ID against it and a birth date that is not plainly
    another child's.  The model scores such a pair low whenever the placeholder's birth date
    is a few weeks off (the home-visit date): the name says nothing and a near date little.
    It is weighed anyway, whatever its score; pair_guard joins it only when the named archive
    is the household's one child born within linkage.newborn's window (else a reviewer)."""
    return (levels.get("name") == _PLACEHOLDER_NAME and levels.get("location") in _HOUSEHOLD
            and levels.get("sex") != "sex.different" and levels.get("id") in ("id.null", "id.one_typo")
            and levels.get("dob") not in ("dob.null", "dob.different"))


def moved_with_household(levels: Mapping[str, str]) -> bool:
    """The shape of a resident who moved with their household (linkage.comove): the same
    name (or its homophone), birth dates that agree up to a typo, not different sexes, no ID
    against it, and two different places.  Measured at 30k persons, seeds 202 and 303: the
    pairs it newly linked were all one person (synth 78 of 78, independent 70 of 70,
    generator3 244 of 244)."""
    return (levels.get("name") in ("name.exact", "name.homophone")
            and levels.get("dob") in {"dob.exact"} | _DOB_TYPO
            and levels.get("sex") != "sex.different" and levels.get("id") in ("id.null", "id.one_typo")
            and levels.get("location") in _NO_PLACE_IN_COMMON)


def could_vouch_for_move(levels: Mapping[str, str]) -> bool:
    """A candidate pair that may vouch for another pair's move (linkage.comove) must itself
    be possibly one person: an ID that agrees (one ID on both records, one typo apart), or
    with no ID on both, a name that is the same up to a typo, birth dates not plainly apart
    and sexes not different.  Otherwise any two residents of the two homes who share a
    birth date vouch: generator4 (20k persons, seed 78) joined two boys 王子墨 born on one
    day in two townships because babies 幺儿 and 幺妹 of their homes, born that day too,
    scored 0.62 as a pair (names one character apart, no ID)."""
    id_level = levels.get("id", "id.null")
    if id_level in _ID_AGREES:
        return True
    return (id_level == "id.null"
            and levels.get("name") in _STRONG_NAME | {"name.lookalike", "name.dropped_char",
                                                      "name.chars_swapped"}
            and levels.get("dob") not in ("dob.different", "dob.within_year")
            and levels.get("sex") != "sex.different")


def clearly_apart(levels: Mapping[str, str]) -> bool:
    """Pairs not worth a reviewer's time: apart by their IDs (apart_by_ids); twins of the
    other sex - given names one character apart, sexes differ, and no ID says otherwise
    (measured at 30k persons: 0 of 26 such review pairs were one person); or names that are
    not the same (any level but exact, or no name), birth dates plainly apart (no typo level
    explains them) and no ID on both records, wherever they live: in the queue these were
    relatives of one household (siblings, a parent and child).  Measured at 30k persons,
    seeds 202 and 303, queued pairs of that shape: 1 of 95 one person (synth 0 of 34,
    independent 1 of 26, generator3 0 of 35)."""
    if apart_by_ids(levels):
        return True
    id_agrees = levels.get("id") in _ID_AGREES
    if levels.get("name") == "name.one_char" and levels.get("sex") == "sex.different" and not id_agrees:
        return True
    return (levels.get("dob") == "dob.different" and not id_agrees
            and levels.get("name", "name.null") not in ("name.exact", "name.null"))


def possible_twins(levels: Mapping[str, str]) -> bool:
    """How twins' archives look: names that sound or look alike, one with a character more,
    or one character apart; the same birth date; and no ID on both records.  pair_guard
    holds such a pair back, and a chain of other pairs must not join it either
    (linkage.cluster): a homophone typo of one twin's name is the other twin's name, and
    the typo'd archive then links to the other twin by "the same name at home".  Found by
    generator4 (seed 303, 30k persons): twins 张宇汐/张语汐 joined that way, 3 false pairs.
    At or near one home (household, the address written another way, the village): twins
    living apart do not chain.  linkage.resolve keeps only pairs whose names begin alike (a
    homophone surname, 章/张, is a typo).  Cost at 30k persons, seeds 202/303, recall auto
    (the pairs go to review instead): synth -0.09/0.00, independent -0.44/-0.31, generator3
    -0.71/-0.25, generator4 -0.22/-0.30 points; the twin pairs joined 3 -> 0."""
    name = levels.get("name")
    return ((name in _TWIN_LIKE_NAME or name == "name.one_char") and levels.get("dob") == "dob.exact"
            and levels.get("id") not in _ID_AGREES and levels.get("location") in _NEAR_HOME)


# ID levels that say the two records carry one ID number (or one typo apart).
_ID_AGREES = {"id.exact", "id.one_typo", "id.shared_not_fitting", "id.exact_bad_checksum"}
ID_AGREES = frozenset(_ID_AGREES)


def apart_by_ids(levels: Mapping[str, str]) -> bool:
    """Pairs the ID numbers show to be two people, not worth a reviewer's time: two valid
    IDs each fitting its own record (twins, namesakes), or one ID shared by two records with
    different names that it does not fit both of (a child filed under a parent's ID).

    Measured on four synthetic populations (two generators): no such pair in review was
    one person."""
    id_level = levels.get("id")
    return id_level == "id.two_people" or (
        id_level == "id.shared_not_fitting" and levels.get("name") in _DIFFERENT_NAME)


@dataclass(frozen=True)
class ArchiveFacts:
    """What decisions need to know of one archive (no names, IDs or phones)."""

    archive_id: str
    region_code: str
    created_date: date | None
    last_service_date: date | None
    id_valid: bool
    completeness: int
    dob_best: date | None = None

    @property
    def county(self) -> str:
        return self.region_code[:COUNTY_CODE_WIDTH]


def survivor_of(members: Sequence[ArchiveFacts]) -> ArchiveFacts:
    return min(
        members,
        key=lambda a: (
            a.created_date is None,
            a.created_date or date.max,
            not a.id_valid,
            -a.completeness,
            a.archive_id,
        ),
    )


def last_activity(archive: ArchiveFacts) -> date:
    """The latest date the archive shows the resident was there: served, or else registered."""
    dates = [d for d in (archive.last_service_date, archive.created_date) if d is not None]
    return max(dates) if dates else date.min


def target_region_of(members: Sequence[ArchiveFacts]) -> str:
    """Where the resident is served now: the archive with the latest service date — where
    an archive opened after a move has no service yet, its opening counts as activity."""
    latest = max(
        members,
        key=lambda a: (last_activity(a), a.created_date or date.min, a.archive_id),
    )
    return latest.region_code


@dataclass(frozen=True)
class RetireDecision:
    action: str  # "merge" | "migrate"
    archive_id: str
    survivor_archive_id: str
    from_region: str
    to_region: str


def decide_cluster(members: Sequence[ArchiveFacts]) -> list[RetireDecision]:
    """One decision per retired archive of a cluster of two or more archives."""
    if len(members) < 2:
        return []
    survivor = survivor_of(members)
    target = target_region_of(members)
    counties = {m.county for m in members}
    action = "migrate" if len(counties) > 1 else "merge"
    return [
        RetireDecision(action, m.archive_id, survivor.archive_id, survivor.region_code, target)
        for m in sorted(members, key=lambda m: m.archive_id)
        if m.archive_id != survivor.archive_id
    ]
