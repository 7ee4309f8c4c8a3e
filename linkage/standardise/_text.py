"""Character sets and SQL-quoting helpers shared by the field modules.

Each field has a Python reference function and an SQL twin that must agree on every
input.  Unicode-aware helpers differ between Python and DuckDB (``'ß'.upper()`` is
``'SS'`` in Python and ``'ẞ'`` in DuckDB; Python's ``\\s`` is wider than RE2's), so
both sides use only the explicit character lists below and match words by exact case
variants instead of case folding.

Two DuckDB facts shape the SQL twins (measured at 1M rows): ``translate`` costs ~0.6 us a
row, so it only runs on rows holding a character it would change; and an expression that
appears twice in one SELECT is hoisted and computed for every row, even inside a CASE
branch most rows never reach.  So each twin computes its expensive values once, in its own
subquery stage, behind a cheap test that sends most rows down a fast path.
"""

from __future__ import annotations

# Whitespace seen in exports: ASCII, NBSP, the full-width space, zero-width marks.
WHITESPACE = (
    " \t\n\r\x0b\x0c\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)

FULLWIDTH_DIGITS = "０１２３４５６７８９"
ASCII_DIGITS = "0123456789"


def case_variants(words: frozenset[str]) -> frozenset[str]:
    """Each word as written, UPPER and Capitalised: exact set look-ups stay fast in SQL and
    avoid Unicode case-mapping differences between Python and DuckDB."""
    return frozenset(v for w in words for v in (w, w.upper(), w.capitalize()))


# Words typed into a field to mean "nothing here" (matched as written, UPPER or Capitalised).
PLACEHOLDER_WORDS: frozenset[str] = case_variants(
    frozenset(
        {"无", "不详", "未知", "空", "暂无", "没有", "不清楚", "null", "none", "nan", "na", "n/a", "nil"}
    )
)


def strip_ws(text: str) -> str:
    """Strip :data:`WHITESPACE` from both ends (the SQL twin uses the same list)."""
    return text.strip(WHITESPACE)


def char_class(chars: str, *, negate: bool = False) -> str:
    """A regex character class valid in both Python ``re`` and DuckDB's RE2."""
    body = "".join("\\" + ch if ch in "\\]^-[" else ch for ch in chars)
    return "[" + ("^" if negate else "") + body + "]"


def sql_str(text: str) -> str:
    """Quote ``text`` as a DuckDB string literal."""
    return "'" + text.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """Quote a possibly schema-qualified table name (``a`` or ``schema.a``)."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def sql_strip_ws(expr: str) -> str:
    """SQL twin of :func:`strip_ws`."""
    ws = char_class(WHITESPACE)
    return f"regexp_replace({expr}, {sql_str('^' + ws + '+|' + ws + '+$')}, '', 'g')"


def sql_in(expr: str, values: frozenset[str] | tuple[str, ...]) -> str:
    """Membership test of ``expr`` in ``values`` (quoted, in a stable order); false for NULL.

    Written as a CASE because DuckDB turns ``IN (...)`` (and ``list_contains`` of a
    constant list) into a hash join, which loses the row order standardise_table keeps.
    """
    whens = " ".join(f"WHEN {sql_str(v)} THEN true" for v in sorted(values))
    return f"(CASE {expr} {whens} ELSE false END)"


def sql_translate(expr: str, source: str, target: str) -> str:
    """``translate`` run only where ``expr`` holds a character of ``source`` (see above).

    ``expr`` should be a column reference: it appears three times.
    """
    return (
        f"CASE WHEN regexp_matches({expr}, {sql_str(char_class(source))})"
        f" THEN translate({expr}, {sql_str(source)}, {sql_str(target)}) ELSE {expr} END"
    )
