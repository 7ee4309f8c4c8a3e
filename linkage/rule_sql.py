"""Reading blocking-rule SQL: its top-level AND terms and OR alternatives.

Shared by the blocking guard (which bounds a rule by its ``l.x = r.x`` keys) and by the
per-side split of the rules Splink runs (linkage.model.rule_split).  Quotes and
parentheses are respected; nothing else of SQL is parsed.
"""

from __future__ import annotations


def strip_parens(text: str) -> str:
    """``text`` without the parentheses that enclose all of it, whitespace collapsed."""
    text = " ".join(text.split())
    while text.startswith("(") and text.endswith(")") and _closes_at_end(text):
        text = text[1:-1].strip()
    return text


def _closes_at_end(text: str) -> bool:
    """Whether the opening parenthesis at 0 closes at the last character."""
    depth = 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0:
            return i == len(text) - 1
    return False


def split_and(text: str) -> list[str]:
    """Split on AND outside parentheses and quotes."""
    return split_word(text, "AND")


def split_word(text: str, word: str) -> list[str]:
    """Split on `` word `` (AND, OR) outside parentheses and quotes."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    upper = text.upper()
    sep = f" {word} "
    while i < len(text):
        ch = text[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and upper.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]
