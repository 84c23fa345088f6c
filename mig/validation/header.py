"""Does a file's first line look like a header, and which of its names may be shown?

A file whose header line is missing has its first *record* where the column names should
be: names, addresses, numbers. Those words must not reach a message or a report. The one
rule, used by ``mig extract`` (the mapping's columns), ``mig validate`` and ``mig audit``
(the layout's items):

- the first line is a plausible header when at least :data:`WITHHOLD_SHARE` of the names
  the caller expects are in it (and at least one is);
- names the caller expects and the line lacks (:attr:`HeaderMatch.missing`) come from the
  mapping or layout: they may always be shown;
- the line's other names (:attr:`HeaderMatch.extra`) may be shown only when it is a
  plausible header; otherwise they are withheld and only counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WITHHOLD_SHARE = 0.5
"""Share of the expected names a first line must hold to count as a header."""


@dataclass(frozen=True)
class HeaderMatch:
    """A file's column names (its first line, for a CSV) against the names expected."""

    fields: int
    expected: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]

    @classmethod
    def of(cls, columns: Sequence[str], expected: Sequence[str]) -> HeaderMatch:
        """
        >>> m = HeaderMatch.of(["山田", "太郎", "東京都"], ["氏名", "住所"])
        >>> m.plausible, m.shown_extra, m.withheld
        (False, (), 3)
        >>> HeaderMatch.of(["氏名", "住所", "備考"], ["氏名", "住所", "性別"]).shown_extra
        ('備考',)
        """
        present = set(columns)
        known = set(expected)
        return cls(
            fields=len(columns),
            expected=tuple(expected),
            missing=tuple(n for n in expected if n not in present),
            extra=tuple(c for c in columns if c not in known),
        )

    @property
    def matched(self) -> int:
        return len(self.expected) - len(self.missing)

    @property
    def plausible(self) -> bool:
        """Whether the line looks like a header (enough of the expected names are in it)."""
        return self.matched > 0 and self.matched >= WITHHOLD_SHARE * len(self.expected)

    @property
    def shown_extra(self) -> tuple[str, ...]:
        """The line's own names that may be shown: all of them for a header, else none."""
        return self.extra if self.plausible else ()

    @property
    def withheld(self) -> int:
        """How many of the line's names are withheld (it may be a data record)."""
        return 0 if self.plausible else len(self.extra)

    def not_a_header(self) -> str:
        """The value-free sentence for a first line that is not a plausible header.

        >>> HeaderMatch.of(["山田", "太郎"], ["氏名"]).not_a_header()
        'the first line does not look like a header (2 fields, no known column names)'
        """
        known = (
            "no known column names" if self.matched == 0
            else f"only {self.matched} of the {len(self.expected)} known column names"
        )
        return f"the first line does not look like a header ({self.fields} fields, {known})"
