"""Turn the archive table into the text columns of the export, in each county's vendor style.

Formatting is not corruption: a county whose system exports sex as 1/2 and dates as
YYYYMMDD does so for every archive it holds, and the truth file does not tag it.
"""

from __future__ import annotations

import numpy as np
from numpy.dtypes import StringDType

from linkage.synth import dates
from linkage.synth.archives import ArchiveTable
from linkage.synth.geography import Geography

# county → (share of ISO dates, of YYYYMMDD, of YYYY/M/D; share of sex as 1/2 codes)
VENDOR_STYLES: dict[int, tuple[float, float, float, float]] = {
    620822: (0.30, 0.65, 0.05, 0.80),  # 灵台县 runs another vendor's system
    620103: (0.70, 0.05, 0.25, 0.05),
}
DEFAULT_STYLE = (0.93, 0.04, 0.03, 0.02)


def render(rng: np.random.Generator, table: ArchiveTable, geo: Geography) -> dict[str, np.ndarray]:
    """The ten INPUT_COLUMNS as StringDType arrays, blank where the value is missing."""
    n = len(table)
    county = geo.county[table.region]
    style = np.array([VENDOR_STYLES.get(int(c), DEFAULT_STYLE) for c in geo.counties])
    s = style[np.searchsorted(geo.counties, county)]
    u = rng.random(n)
    birth = dates.iso(table.birth)
    compact = np.flatnonzero((u >= s[:, 0]) & (u < s[:, 0] + s[:, 1]))
    birth[compact] = dates.compact(table.birth[compact])
    slashed = np.flatnonzero(u >= s[:, 0] + s[:, 1])
    birth[slashed] = dates.slashed(table.birth[slashed])
    codes = rng.random(n) < s[:, 3]
    sex = np.select(
        [table.female == 0, table.female == 1],
        [np.where(codes, "1", "男"), np.where(codes, "2", "女")],
        "",
    )
    return {
        "archive_id": table.archive_id,
        "name": table.name,
        "sex": sex.astype(StringDType()),
        "birth_date": birth.astype(StringDType()),
        "id_number": table.id_number,
        "region_code": geo.code_str[table.region],
        "address": table.address,
        "phone": table.phone,
        "created_date": dates.iso(table.created),
        "last_service_date": dates.iso(table.last_service),
    }
