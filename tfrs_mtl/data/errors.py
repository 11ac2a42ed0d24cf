"""Errors and reports shared by every reader: where the bad input is and what was expected."""

from __future__ import annotations

import dataclasses
import warnings
from collections import Counter
from pathlib import Path
from typing import Any, Literal

from tfrs_mtl._messages import shown

OnBadRows = Literal["raise", "skip"]
ON_BAD_ROWS_CHOICES: tuple[str, ...] = ("raise", "skip")


class DataError(ValueError):
    """Input data that cannot be read as the format promises.

    The message names the file, the 1-based line, the column, the value found and what was
    expected, so that the user can fix the input:
    `.../u.data, line 17, column 'rating': found '6'; expected an integer from 1 to 5`.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = str(path) if path is not None else None
        self.line = line
        self.column = column
        self.value = value
        self.expected = expected
        super().__init__(self._format())

    def _format(self) -> str:
        where = [part for part in (self.path,) if part]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        text = ", ".join(where)
        text = f"{text}: {self.problem}" if text else self.problem
        if self.value is not None:
            text += f"; found {shown(self.value)}"
        if self.expected is not None:
            text += f"; expected {self.expected}"
        return text


class DataNotFoundError(FileNotFoundError):
    """A dataset could be found nowhere; the message names every place and option tried."""


@dataclasses.dataclass
class ReadReport:
    """What a reader kept and dropped. Readers attach one to what they return.

    Attributes:
        num_rows_read: data rows seen (header excluded), over every file read.
        num_rows_dropped: rows dropped under `on_bad_rows="skip"` or by a duplicate policy.
        reasons: dropped-row count per reason, e.g. {"rating out of range": 3}.
        examples: the first few full error messages, for the user to look at.
    """

    num_rows_read: int = 0
    num_rows_dropped: int = 0
    reasons: Counter[str] = dataclasses.field(default_factory=Counter)
    examples: list[str] = dataclasses.field(default_factory=list)
    max_examples: int = 5

    def drop(self, reason: str, count: int = 1, example: str | None = None) -> None:
        """Records `count` dropped rows for `reason`, keeping a few example messages."""
        if count <= 0:
            return
        self.num_rows_dropped += count
        self.reasons[reason] += count
        if example is not None and len(self.examples) < self.max_examples:
            self.examples.append(example)

    def merge(self, other: ReadReport) -> None:
        self.num_rows_read += other.num_rows_read
        self.num_rows_dropped += other.num_rows_dropped
        self.reasons.update(other.reasons)
        room = self.max_examples - len(self.examples)
        self.examples.extend(other.examples[: max(room, 0)])

    def summary(self) -> str:
        if not self.num_rows_dropped:
            return f"read {self.num_rows_read:,} rows, dropped none"
        reasons = ", ".join(f"{count:,} {reason}" for reason, count in self.reasons.most_common())
        return f"read {self.num_rows_read:,} rows, dropped {self.num_rows_dropped:,} ({reasons})"

    def warn_if_dropped(self, source: str) -> None:
        """Emits one `UserWarning` saying how many rows were dropped and why."""
        if self.num_rows_dropped:
            warnings.warn(f"{source}: {self.summary()}", UserWarning, stacklevel=3)


def check_on_bad_rows(on_bad_rows: str) -> None:
    if on_bad_rows not in ON_BAD_ROWS_CHOICES:
        raise ValueError(f"on_bad_rows={on_bad_rows!r}; expected one of {ON_BAD_ROWS_CHOICES}")
