"""Phone numbers on too many archives to be one household's: a clinic's, a village doctor's.

A shared phone is strong evidence (the "same phone" level is worth about 17 bits) because
a household's number is on a handful of archives: its members' and their duplicates'.  When
residents without a phone of their own are registered under the clinic's or the doctor's
number, hundreds of unrelated archives share it, and two namesakes of one village would be
joined on it as if they lived together.  A number on more than ``[limits]
max_archives_per_phone`` archives of the population is therefore no evidence: the model
input carries it as blank (linkage.model.features), so neither a comparison, a blocking
rule, the newborn rule nor the review's household screen reads it.  The reviewer still sees
the number as typed (review items read the raw row).

The count is over every row of the export (linkage.ingest), accepted or rejected, never over
a Spark batch or tonight's changed archives alone; a nightly run keeps every number
unblanked in its state, blanks tonight's set as it reads, and rebuilds in full when the set
changes (linkage.state.nightly), since stored pairs were scored with last night's set.
The generators we measure on never put one number on more than 12 archives at 1M persons.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from linkage.standardise.phone import phone_sql


@dataclass(frozen=True)
class SharedPhones:
    """The numbers found on more than ``limit`` archives, and how many archives carry them."""

    phones: tuple[str, ...] = field(repr=False)  # personal data: never in a log line
    archives: int
    limit: int

    def signature(self) -> str:
        """A hash of the set, kept in the nightly state to tell whether tonight's set is
        last night's (not a secret: the state holds every archive's number anyway)."""
        digest = hashlib.sha256(f"{self.limit}\n".encode())
        for phone in self.phones:
            digest.update(phone.encode() + b"\n")
        return digest.hexdigest()

    def as_dict(self) -> dict[str, int]:
        """For summary.json: counts only, never a number."""
        return {"limit": self.limit, "phones": len(self.phones), "archives": self.archives}


NONE_SHARED = SharedPhones((), 0, 0)
log = logging.getLogger(__name__)


def shared_phones_of_rows(con: duckdb.DuckDBPyConnection, rows_table: str, limit: int) -> SharedPhones:
    """The numbers that more than ``limit`` archives of the input rows ``rows_table`` carry
    (columns ``archive_id``, ``row_number``, ``phone``), normalised as standardise does, each
    archive counted once (a row without an
    archive_id is an archive of its own).  Read over every row of the export, rejected ones
    too: a row refused for its region code still shows who typed the number for whom, and a
    run, a night, a Spark run and ``linkage explain`` over one export then blank the same
    numbers (a night's archives kept from last night have their row in the export)."""
    # Rows first (cheap), archives only for the few numbers on more rows than the limit.
    rows = con.execute(f"""
        WITH typed AS MATERIALIZED (
            SELECT coalesce(archive_id, '#' || row_number) AS archive_key, phone_norm
            FROM ({phone_sql(rows_table, 'phone')}) WHERE phone_norm IS NOT NULL),
        many AS (SELECT phone_norm FROM typed GROUP BY phone_norm HAVING count(*) > {int(limit)})
        SELECT phone_norm, count(DISTINCT archive_key) FROM typed SEMI JOIN many USING (phone_norm)
        GROUP BY phone_norm HAVING count(DISTINCT archive_key) > {int(limit)}
        ORDER BY phone_norm
    """).fetchall()
    return SharedPhones(tuple(phone for phone, _ in rows), sum(int(n) for _, n in rows), limit)


def shared_phone_table(shared: SharedPhones) -> pa.Table:
    """The numbers as a one-column ``phone`` table, for a join."""
    return pa.table({"phone": pa.array(shared.phones, pa.string())})


def warn_shared_phones(shared: SharedPhones) -> None:
    """Say how many numbers were set aside (never which: they are personal data)."""
    if shared.phones:
        log.warning("%d phone number(s) are each on more than %d archives (%d archives in all): "
                    "a clinic's or doctor's number is not a household's, so they are not used as "
                    "evidence ([limits] max_archives_per_phone)",
                    len(shared.phones), shared.limit, shared.archives)


def blank_phone_sql(phones_table: str, column: str = "phone_norm") -> str:
    """``column``, NULL where ``phones_table`` (column ``phone``) holds it."""
    return (f"CASE WHEN {column} IN (SELECT phone FROM {phones_table}) THEN NULL "
            f"ELSE {column} END")
