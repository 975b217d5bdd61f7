"""CSV cells that are safe to open in a spreadsheet: stored text never runs as a formula.

An office suite treats a cell that starts with ``=``, ``+``, ``-`` or ``@``
as a formula (``=HYPERLINK(…)`` in a member's name would become a link, or
worse), and some also after a leading tab or carriage return. Following
the OWASP advice on CSV injection, such a cell gets a leading ``'``: the
spreadsheet shows the text as it was typed (the ``'`` marks it as text),
and a program reading the file sees the ``'`` and can strip it. Quoting
(commas, quotes, line breaks inside a cell) is left to :mod:`csv`.
"""

from collections.abc import Iterable

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet read a cell as a formula."""


def safe_cell(text: str) -> str:
    """``text``, with a leading ``'`` if a spreadsheet would take it for a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(cells: Iterable[object]) -> list[str]:
    """Every cell as text through :func:`safe_cell` (``None`` becomes an empty cell)."""
    return [safe_cell("" if cell is None else str(cell)) for cell in cells]
