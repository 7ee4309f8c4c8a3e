"""The column contracts shared by every stage.

``INPUT_COLUMNS`` is the exact input schema other systems export to us (see README).
``FEATURE_COLUMNS`` documents the standardised table ``features`` that standardisation
writes and the model, blocking, clustering and decisions read.  One row per usable archive.
"""

from __future__ import annotations

INPUT_COLUMNS: tuple[str, ...] = (
    "archive_id",
    "name",
    "sex",
    "birth_date",
    "id_number",
    "region_code",
    "address",
    "phone",
    "created_date",
    "last_service_date",
)

# Widths of the prefixes of a 12-digit region code: the county (GB/T 2260) and the township
# (NBS 统计用区划代码).  An ID number's first COUNTY_CODE_WIDTH digits are its issuing area.
COUNTY_CODE_WIDTH = 6
TOWNSHIP_CODE_WIDTH = 9
# Where an 18-digit ID number (GB 11643) holds its holder's birth date, YYYYMMDD.
ID_BIRTH_DATE = slice(6, 14)

# Columns that must be present (after header mapping) for a run to start.
REQUIRED_COLUMNS: tuple[str, ...] = ("archive_id", "name", "region_code")

# name -> (DuckDB type, meaning).  Produced by linkage.standardise.standardise_table.
FEATURE_COLUMNS: dict[str, tuple[str, str]] = {
    "archive_id": ("VARCHAR", "input archive number, trimmed; the unique id"),
    "row_number": ("BIGINT", "1-based data row number in the input file (header excluded)"),
    "region_code": ("VARCHAR", "12-digit division code of the managing village"),
    "county": ("VARCHAR", "first 6 digits of region_code"),
    "township": ("VARCHAR", "first 9 digits of region_code"),
    "name_clean": ("VARCHAR", "simplified, separators unified to '·', spaces removed; NULL if blank"),
    "name_len": ("INTEGER", "characters in name_clean"),
    "surname_py": ("VARCHAR", "pinyin of the surname (compound surnames known), surname reading"),
    "given_py": ("VARCHAR", "pinyin of the given name, no spaces"),
    "name_py": ("VARCHAR", "surname_py || given_py, tone-free, no spaces"),
    "name_py_fuzzy": ("VARCHAR", "name_py with dialect confusions folded (zh->z, n->l, ...)"),
    "name_py_sorted": ("VARCHAR", "syllables of name_py sorted and joined (catches swapped order)"),
    "sex": ("VARCHAR", "'M', 'F' or NULL"),
    "dob": ("DATE", "birth date from the record; NULL if blank, unparseable or a placeholder"),
    "dob_raw_placeholder": ("BOOLEAN", "the record's birth date was a placeholder"),
    "id_norm": ("VARCHAR", "ID normalised to 18 chars (15 upgraded); NULL if blank/placeholder/garbage"),
    "id_valid": ("BOOLEAN", "id_norm passes GB 11643 check digit and has a real date"),
    "id_dob": ("DATE", "birth date embedded in id_norm (NULL if not a real date)"),
    "id_consistent": ("BOOLEAN", "id_valid and embedded dob/sex agree with the record (or record blank)"),
    "id_sorted": ("VARCHAR", "the 18 characters of id_norm sorted (equal for a transposition)"),
    "id_status": ("VARCHAR", "blank | placeholder | malformed | bad_check | valid"),
    "phone_norm": ("VARCHAR", "digits only; mobile 11 digits (86 prefix dropped); NULL if blank"),
    "address_norm": ("VARCHAR", "admin prefix stripped, numerals Arabic, unit words unified"),
    "created_date": ("DATE", "archive creation date"),
    "last_service_date": ("DATE", "latest service date; NULL if blank"),
}
