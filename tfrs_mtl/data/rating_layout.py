"""`RatingLayout`: how each MovieLens rating file is laid out, and the per-line rules that
the diagnostic pass of `rating_file.read_rating_file` applies to locate bad lines exactly."""

from __future__ import annotations

import dataclasses
import re
from typing import Literal

from tfrs_mtl.data.errors import DataError

RatingScale = Literal["whole", "half"]

_INTEGER = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
#: Digits of the largest timestamp read: 18 keep every value below 10**18, inside int64.
MAX_TIMESTAMP_DIGITS = 18
#: Characters of the longest rating text parsed as a number (beyond: out of range).
_MAX_RATING_CHARS = 18
TIMESTAMP_EXPECTED = "unix seconds (a non-negative integer)"
TIMESTAMP_RANGE_EXPECTED = "unix seconds (a non-negative integer below 10^18)"


@dataclasses.dataclass(frozen=True)
class RatingLayout:
    """How one rating file is laid out.

    Attributes:
        delimiter: field separator (`\\t`, `::` or `,`).
        column_names: the four columns as the format's documentation names them, used in
            messages: user, movie, rating, timestamp.
        header: the exact first line, or None when the file has no header.
        scale: `whole` (integers 1..5) or `half` (0.5..5.0 in half steps).
        encoding: `latin-1` for the 100k/1m files, `utf-8` for the CSV releases.
    """

    delimiter: str
    column_names: tuple[str, str, str, str]
    header: str | None
    scale: RatingScale
    encoding: str

    @property
    def rating_expected(self) -> str:
        if self.scale == "whole":
            return "an integer from 1 to 5"
        return "a number from 0.5 to 5.0 in half steps"


LAYOUT_100K = RatingLayout(
    "\t", ("user id", "item id", "rating", "timestamp"), None, "whole", "latin-1"
)
LAYOUT_1M = RatingLayout(
    "::", ("UserID", "MovieID", "Rating", "Timestamp"), None, "whole", "latin-1"
)
LAYOUT_CSV = RatingLayout(
    ",",
    ("userId", "movieId", "rating", "timestamp"),
    "userId,movieId,rating,timestamp",
    "half",
    "utf-8",
)


def diagnose_line(raw: bytes, number: int, path: str, layout: RatingLayout) -> DataError | None:
    """The `DataError` for a line the fast parser would reject, or None for a parsable one.

    Only lines matching these (strict) patterns are re-parsed by pyarrow, so a second
    parse of the kept lines cannot fail.
    """
    try:
        text = raw.decode(layout.encoding)
    except UnicodeDecodeError:
        return DataError(
            "invalid text encoding", path=path, line=number, value=raw, expected="UTF-8 text"
        )
    fields = text.rstrip("\r").split(layout.delimiter)
    if len(fields) != 4:
        problem = "empty line" if not text.strip() else "wrong number of fields"
        return DataError(
            problem,
            path=path,
            line=number,
            value=text,
            expected=f"4 fields separated by {layout.delimiter!r}",
        )
    user, movie, rating, timestamp = layout.column_names
    checks = (
        (user, fields[0], _INTEGER, "non-numeric id", "a numeric id"),
        (movie, fields[1], _INTEGER, "non-numeric id", "a numeric id"),
        (
            rating,
            fields[2],
            _INTEGER if layout.scale == "whole" else _DECIMAL,
            "bad rating",
            layout.rating_expected,
        ),
        (timestamp, fields[3], _INTEGER, "bad timestamp", TIMESTAMP_EXPECTED),
    )
    for column, value, pattern, problem, expected in checks:
        if not pattern.fullmatch(value):
            return DataError(
                problem, path=path, line=number, column=column, value=value, expected=expected
            )
    # Checked before any conversion: a number too long for int64 stops the parser itself.
    if len(fields[2]) > _MAX_RATING_CHARS:
        return DataError(
            "rating out of range",
            path=path,
            line=number,
            column=rating,
            value=fields[2],
            expected=layout.rating_expected,
        )
    if len(fields[3]) > MAX_TIMESTAMP_DIGITS:
        return DataError(
            "timestamp out of range",
            path=path,
            line=number,
            column=timestamp,
            value=fields[3],
            expected=TIMESTAMP_RANGE_EXPECTED,
        )
    return None
