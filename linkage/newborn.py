"""Newborn placeholder archives and the one named archive they can belong to.

A newborn's archive is often opened before the child is named (王芳之子, 婴儿, 王女婴); the
child's later archive carries the given name, the same birth date and the same household
(address or phone).  When exactly one named archive of that birth date lives in that
household (within NEWBORN_DATE_WINDOW_DAYS), it is the child.  Twins give two such
archives, and then only an ID or a reviewer can say whose placeholder it was
(linkage.decide.pair_guard).

Counted on the whole model input, not on the scored pairs: a twin whose pair scored low
(another sex) still makes the placeholder ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from linkage.connection import id_table, registered
from linkage.decide import HOUSEHOLD_LEVELS, PLACEHOLDER_NAME

_IDS = "_newborn_ids"
# How far a newborn archive's birth date may be from the child's: a clerk at the first home
# visit (新生儿访视) types the visit date, or a date a few weeks off.  No other child of one
# household is born within two months of another, except a twin.
NEWBORN_DATE_WINDOW_DAYS = 60


def sole_named_archive(con: duckdb.DuckDBPyConnection, features: str,
                       archive_ids: Iterable[str]) -> dict[str, str]:
    """Placeholder archive -> the only named archive born within NEWBORN_DATE_WINDOW_DAYS of
    it in its household (same address or phone), for those of ``archive_ids`` that are
    placeholders with exactly one such archive."""
    ids = set(archive_ids)
    if not ids:
        return {}
    with registered(con, _IDS, id_table(ids)):
        rows = con.execute(f"""
            WITH p AS (
                SELECT archive_id, dob_days, address_norm, phone_norm FROM {features}
                SEMI JOIN {_IDS} USING (archive_id)
                WHERE name_placeholder AND dob_days IS NOT NULL
            ),
            named AS (SELECT archive_id, dob_days, address_norm, phone_norm FROM {features}
                      WHERE NOT coalesce(name_placeholder, false) AND dob_days IS NOT NULL),
            home AS (
                SELECT p.archive_id AS placeholder, n.archive_id AS named, p.dob_days AS d, n.dob_days AS e
                FROM p JOIN named n USING (address_norm)
                UNION
                SELECT p.archive_id, n.archive_id, p.dob_days, n.dob_days
                FROM p JOIN named n USING (phone_norm)
            )
            SELECT placeholder, min(named) FROM home
            WHERE abs(d - e) <= {NEWBORN_DATE_WINDOW_DAYS}
            GROUP BY placeholder
            HAVING count(DISTINCT named) = 1
        """).fetchall()
    return {placeholder: named for placeholder, named in rows}


def newborn_pair_sql(codes: dict[str, dict[int, str]]) -> str:
    """SQL over a scored pair's gammas, true for a placeholder archive and an archive of its
    household: such pairs are kept and weighed whatever their score (the model scores them
    low when the placeholder's birth date is a few weeks off; decide.newborn_at_home checks
    the rest).  ``codes`` is comparison -> gamma -> level code; "false" if the model has no
    placeholder or household level."""
    name = sorted(g for g, code in codes.get("name", {}).items() if code == PLACEHOLDER_NAME)
    home = sorted(g for g, code in codes.get("location", {}).items() if code in HOUSEHOLD_LEVELS)
    if not name or not home:
        return "false"
    return (f"(gamma_name IN ({', '.join(map(str, name))}) "
            f"AND gamma_location IN ({', '.join(map(str, home))}))")


# The review reason of two placeholder archives of one household (a named danger: a
# reviewer's verdicts on other pairs never overrule it, linkage.model.verdicts).
TWIN_PLACEHOLDERS_REASON = "two newborn placeholders at one home, birth dates near (twins?)"


def placeholder_twins(con: duckdb.DuckDBPyConnection, features: str,
                      pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Of ``pairs`` (archives of one household, linkage.decide.newborn_at_home's shape),
    those whose two archives are both placeholders born within NEWBORN_DATE_WINDOW_DAYS.

    Two placeholder archives of one home on one date are how twins look before they are
    named (唐静之女 and 唐静的孩子); nothing in them tells twins from one baby filed twice,
    so neither the pair nor a chain through the named child may join them (the cluster's
    twin rule).  On generator4 at 1M persons, 55 such pairs were twins and none one child;
    no other generator has two placeholders for one child either."""
    pairs = list(pairs)
    ids = {a for pair in pairs for a in pair}
    if not ids:
        return set()
    with registered(con, _IDS, id_table(ids)):
        rows = con.execute(f"""
            SELECT archive_id, dob_days FROM {features} SEMI JOIN {_IDS} USING (archive_id)
            WHERE name_placeholder
        """).fetchall()
    born = {archive: days for archive, days in rows}
    return {(a, b) for a, b in pairs if a in born and b in born and born[a] is not None
            and born[b] is not None and abs(born[a] - born[b]) <= NEWBORN_DATE_WINDOW_DAYS}
