"""CSV files meant for people in a spreadsheet (``mig extract --excel``).

Japanese Excel opens a CSV as CP932 unless it starts with a byte order mark, so these files
are UTF-8 *with* BOM and CRLF line ends. A cell whose text a spreadsheet would take for a
formula (``=``, ``+``, ``-``, ``@`` at the start, or a tab or carriage return there) is
neutralised by a leading apostrophe (:func:`spreadsheet_safe`): a value from a legacy
export must never run as a formula on the reviewer's machine. Every CSV mig writes for
spreadsheets goes through :class:`SpreadsheetCsv`, the one place that applies it.

The intermediate CSV of the run directory (``data/<layout>.csv``) is *not* such a file:
it is the migration format, byte-exact, without BOM and without apostrophes.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl

__all__ = ["BOM", "FORMULA_START", "SpreadsheetCsv", "spreadsheet_safe"]

BOM = "\ufeff".encode()
#: Leading characters that make a spreadsheet read a cell as a formula (or split it).
FORMULA_START = "=+-@\t\r"
_FORMULA_PATTERN = r"^[=+\-@\t\r]"


def spreadsheet_safe(value: pl.Expr) -> pl.Expr:
    """``value`` with a leading apostrophe where it starts like a formula.

    >>> df = pl.DataFrame({"v": ["=1+2", "+81", "-12.5", "@SUM(A1)", "\\tx", "山田", None]})
    >>> df.select(spreadsheet_safe(pl.col("v"))).to_series().to_list()
    ["'=1+2", "'+81", "'-12.5", "'@SUM(A1)", "'\\tx", '山田', None]
    """
    text = value.cast(pl.String)
    return pl.when(text.str.contains(_FORMULA_PATTERN)).then(pl.lit("'") + text).otherwise(text)


class SpreadsheetCsv:
    """A spreadsheet CSV written batch by batch: BOM and header first, then rows.

    Every column is written as text through :func:`spreadsheet_safe`; the header is the
    given column labels (neutralised too).
    """

    def __init__(self, path: Path, columns: list[str], labels: list[str] | None = None) -> None:
        self.path = path
        self.columns = columns
        self._handle: IO[bytes] = path.open("wb")
        self._handle.write(BOM)
        header = pl.DataFrame({c: [label] for c, label in zip(columns, labels or columns, strict=True)})
        self._write(header)

    def _write(self, frame: pl.DataFrame) -> None:
        frame.select(spreadsheet_safe(pl.col(c)).alias(c) for c in self.columns).write_csv(
            self._handle, include_header=False, line_terminator="\r\n", quote_style="non_numeric",
        )

    def write(self, frame: pl.DataFrame) -> None:
        """Append ``frame``'s rows (it holds at least :attr:`columns`; missing ones are empty)."""
        if frame.height == 0:
            return
        missing = [pl.lit(None, dtype=pl.String).alias(c) for c in self.columns if c not in frame.columns]
        self._write(frame.with_columns(missing) if missing else frame)

    def close(self) -> None:
        self._handle.close()
