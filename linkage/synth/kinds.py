"""The vocabulary of the synthetic truth and the rates it is generated at.

Everything a test or a benchmark needs to interpret ``truth.csv`` and
``hard_negatives.csv`` lives here, so the numbers are stated once.

Rates are *conditional on eligibility*: a corruption that cannot apply to a value (a
lowercase ``x`` on an ID without ``X``, a day/month swap when the day is above 12, an old
address for someone who never moved) is not applied, and the archive is not counted in
the denominator.  ``SynthSummary.extra_eligible`` reports that denominator per kind.
"""

from __future__ import annotations

import datetime as dt

ORIGINS: tuple[str, ...] = ("original", "duplicate", "moved", "moved_within")

CORRUPTION_KINDS: tuple[str, ...] = (
    "name_homophone",
    "name_similar_char",
    "name_traditional",
    "name_dropped_char",
    "name_space",
    "id_blank",
    "id_wu",
    "id_one_digit",
    "id_swap",
    "id_15",
    "id_lowercase_x",
    "id_fullwidth",
    "id_household",
    "dob_blank",
    "dob_swap",
    "dob_year_off",
    "dob_lunar",
    "dob_placeholder",
    "sex_blank",
    "address_abbrev",
    "address_numerals",
    "address_old",
    "phone_changed",
    "phone_blank",
)

HARD_NEGATIVE_TAGS: tuple[str, ...] = (
    "twins",
    "same_name_dob_county",
    "child_parent_id",
    "spouses",
    "namesake_cross_county",
)

# Probability that an extra archive (duplicate / moved / moved_within) carries each
# corruption, given that the corruption can apply to it.  Kinds of one field marked
# exclusive below are drawn as one categorical choice, so their rates add up to < 1.
CORRUPTION_RATES: dict[str, float] = {
    "name_homophone": 0.06,
    "name_similar_char": 0.03,
    "name_traditional": 0.02,
    "name_dropped_char": 0.02,
    "name_space": 0.03,
    "id_blank": 0.20,
    "id_wu": 0.02,
    "id_one_digit": 0.03,
    "id_swap": 0.02,
    "id_15": 0.03,
    "id_lowercase_x": 0.30,
    "id_fullwidth": 0.01,
    "id_household": 0.02,
    "dob_blank": 0.04,
    "dob_swap": 0.03,
    "dob_year_off": 0.03,
    "dob_lunar": 0.05,
    "dob_placeholder": 0.02,
    "sex_blank": 0.03,
    "address_abbrev": 0.15,
    "address_numerals": 0.10,
    "address_old": 0.30,
    "phone_changed": 0.15,
    "phone_blank": 0.10,
}

# The same for original archives: mostly clean, but real first archives also lack IDs,
# carry a lowercase x or a lunar birthday.  Kinds absent here never hit an original at
# random (id_household does, through the child_parent_id hard negatives).
ORIGINAL_NOISE_RATES: dict[str, float] = {
    "name_homophone": 0.002,
    "name_traditional": 0.001,
    "name_space": 0.003,
    "id_blank": 0.06,
    "id_wu": 0.005,
    "id_one_digit": 0.003,
    "id_swap": 0.002,
    "id_15": 0.005,
    "id_lowercase_x": 0.15,
    "id_fullwidth": 0.003,
    "dob_blank": 0.005,
    "dob_lunar": 0.01,
    "dob_placeholder": 0.005,
    "sex_blank": 0.01,
    "address_abbrev": 0.10,
    "address_numerals": 0.05,
    "phone_blank": 0.05,
}

# Field each kind corrupts, in the order fields are processed.
FIELD_KINDS: dict[str, tuple[str, ...]] = {
    "name": tuple(k for k in CORRUPTION_KINDS if k.startswith("name_")),
    "id": tuple(k for k in CORRUPTION_KINDS if k.startswith("id_")),
    "dob": tuple(k for k in CORRUPTION_KINDS if k.startswith("dob_")),
    "sex": ("sex_blank",),
    "address": tuple(k for k in CORRUPTION_KINDS if k.startswith("address_")),
    "phone": tuple(k for k in CORRUPTION_KINDS if k.startswith("phone_")),
}
# Fields where one archive gets at most one corruption (one categorical draw).  Name
# corruptions are independent: a homophone and an inserted space can co-occur.
EXCLUSIVE_FIELDS: frozenset[str] = frozenset({"id", "dob", "address", "phone"})

# Share of persons that get each kind of extra archive.
ORIGIN_RATES: dict[str, float] = {"duplicate": 0.04, "moved": 0.02, "moved_within": 0.01}

# Confusable pairs of different persons, per 100,000 persons (at least one of each).
HARD_NEGATIVES_PER_100K: dict[str, int] = {
    "twins": 50,
    "same_name_dob_county": 60,
    "child_parent_id": 40,
    "spouses": 120,
    "namesake_cross_county": 80,
}

# The day the archives were extracted: ages, creation and service dates are relative to it.
REFERENCE_DATE = dt.date(2024, 6, 30)
# The national basic public health service started filing archives in 2009.
PROGRAMME_START = dt.date(2009, 6, 1)
