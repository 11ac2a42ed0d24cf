"""`read_rating_file`: a validated, vectorized reader for MovieLens rating files.

Handles the three layouts: ml-100k `u.data` and its folds (TAB, no header), ml-1m
`ratings.dat` (`::`, no header) and ml-latest `ratings.csv` (comma, header
`userId,movieId,rating,timestamp`). The fast path is one multi-threaded `pyarrow.csv` parse and
numpy/pyarrow checks. Only when the parse fails does a per-line diagnostic pass run, so that
every error names the exact 1-based line.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from tfrs_mtl.data.errors import DataError, OnBadRows, ReadReport, check_on_bad_rows
from tfrs_mtl.data.rating_layout import (
    LAYOUT_1M,
    LAYOUT_100K,
    LAYOUT_CSV,
    MAX_TIMESTAMP_DIGITS,
    TIMESTAMP_RANGE_EXPECTED,
    RatingLayout,
    diagnose_line,
)

__all__ = [
    "LAYOUT_1M",
    "LAYOUT_100K",
    "LAYOUT_CSV",
    "RatingColumns",
    "RatingLayout",
    "read_rating_file",
]


_MISSING_TIMESTAMP = np.iinfo(np.int64).min
_BOM = b"\xef\xbb\xbf"
_DEFAULT_BLOCK_BYTES = 1 << 20  # pyarrow's; a longer line needs a larger block
_TIMESTAMP_LIMIT = 10**MAX_TIMESTAMP_DIGITS
MAX_ID_DIGITS = 18
ID_RANGE_EXPECTED = f"a numeric id of at most {MAX_ID_DIGITS} digits"


@dataclasses.dataclass(frozen=True)
class RatingColumns:
    """The parsed rating rows, one entry per kept row, in file order.

    Attributes:
        user_id: raw user id text, `pa.StringArray` of shape `[num_rows]`.
        movie_id: raw movie id text, `pa.StringArray` of shape `[num_rows]`.
        rating: float32 ratings, shape `[num_rows]`.
        timestamp: int64 unix seconds, shape `[num_rows]`.
        line: the 1-based line of each row in its file, int64 `[num_rows]`.
        row: the 0-based data-row number of each row (the TFDS example key), int64 `[num_rows]`.
    """

    user_id: pa.Array
    movie_id: pa.Array
    rating: np.ndarray
    timestamp: np.ndarray
    line: np.ndarray
    row: np.ndarray

    def take(self, keep: np.ndarray) -> RatingColumns:
        """The rows where boolean `keep` (shape `[num_rows]`) is true."""
        mask = pa.array(keep)
        return RatingColumns(
            self.user_id.filter(mask),
            self.movie_id.filter(mask),
            self.rating[keep],
            self.timestamp[keep],
            self.line[keep],
            self.row[keep],
        )


def read_rating_file(
    data: bytes,
    path: str,
    layout: RatingLayout,
    *,
    on_bad_rows: OnBadRows = "raise",
    report: ReadReport | None = None,
) -> RatingColumns:
    """Parses and validates one rating file.

    Args:
        data: the file's bytes.
        path: how messages name the file.
        layout: the file's `RatingLayout`.
        on_bad_rows: `raise` a `DataError` at the first bad row, or `skip` bad rows and count
            them in `report`.
        report: collects rows read and dropped; a fresh one when None.

    Returns:
        The kept rows as `RatingColumns`.

    Raises:
        DataError: the file is empty, has a wrong header, or (with `raise`) a bad row.
    """
    check_on_bad_rows(on_bad_rows)
    report = report if report is not None else ReadReport()
    # A UTF-8 byte-order mark (saved by some editors) is not part of the first field.
    first_line, start = 1, len(_BOM) if data.startswith(_BOM) else 0
    if layout.header is not None:
        end = first_line_end(data, start)
        found = data[start:end].decode(layout.encoding, errors="replace").strip()
        if found != layout.header:
            raise DataError(
                "unexpected header", path=path, line=1, value=found, expected=repr(layout.header)
            )
        first_line, start = 2, next_line_start(data, end)
    if _is_blank(data, start):
        raise DataError("empty file: no ratings", path=path, expected="one rating per line")
    try:
        columns = _parse(pa.py_buffer(data)[start:], layout)
        if _has_blank_rows(*columns):
            raise pa.ArrowInvalid("empty line")  # pyarrow reads it as a row of empty values
        line = np.arange(first_line, first_line + len(columns[0]), dtype=np.int64)
        report.num_rows_read += len(line)
    except pa.ArrowInvalid:
        columns, line = _parse_after_diagnosis(
            data[start:], path, layout, first_line, on_bad_rows, report
        )
    user_id, movie_id, rating64, timestamp = columns
    result = RatingColumns(
        user_id,
        movie_id,
        rating64.astype(np.float32),
        timestamp,
        line,
        line - first_line,
    )
    bad = _check_values(result, rating64, path, layout, on_bad_rows, report)
    return result.take(~bad) if bad.any() else result


def _parse(
    data: pa.Buffer, layout: RatingLayout, block_size: int = _DEFAULT_BLOCK_BYTES
) -> tuple[pa.Array, pa.Array, np.ndarray, np.ndarray]:
    delimiter = layout.delimiter
    if delimiter == "::":  # pyarrow splits on one character; ids and numbers never hold a TAB
        data, delimiter = pa.py_buffer(data.to_pybytes().replace(b"::", b"\t")), "\t"
    names = ["user", "movie", "rating", "timestamp"]
    table = pa_csv.read_csv(
        pa.BufferReader(data),
        read_options=pa_csv.ReadOptions(
            column_names=names, encoding="utf-8", block_size=block_size
        ),
        parse_options=pa_csv.ParseOptions(
            delimiter=delimiter, quote_char=False, ignore_empty_lines=False
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types={
                "user": pa.string(),
                "movie": pa.string(),
                "rating": pa.int64() if layout.scale == "whole" else pa.float64(),
                "timestamp": pa.int64(),
            },
            null_values=[""],
            strings_can_be_null=False,
        ),
    )
    rating = table["rating"].combine_chunks()
    timestamp = table["timestamp"].combine_chunks()
    return (
        table["user"].combine_chunks(),
        table["movie"].combine_chunks(),
        rating.to_numpy(zero_copy_only=False).astype(np.float64),
        timestamp.fill_null(_MISSING_TIMESTAMP).to_numpy(zero_copy_only=False),
    )


def _parse_after_diagnosis(
    data: bytes,
    path: str,
    layout: RatingLayout,
    first_line: int,
    on_bad_rows: OnBadRows,
    report: ReadReport,
) -> tuple[tuple[pa.Array, pa.Array, np.ndarray, np.ndarray], np.ndarray]:
    """The error path: finds bad lines one by one, then parses the good ones."""
    kept_lines: list[bytes] = []
    kept_numbers: list[int] = []
    lines = data.splitlines()
    report.num_rows_read += len(lines)
    for offset, raw in enumerate(lines):
        number = first_line + offset
        error = diagnose_line(raw, number, path, layout)
        if error is None:
            kept_lines.append(raw)
            kept_numbers.append(number)
        elif on_bad_rows == "raise":
            raise error
        else:
            report.drop(error.problem, example=str(error))
    if not kept_lines:
        empty = pa.array([], pa.string())
        no_rows = np.zeros(0, np.int64)
        return (empty, empty, no_rows.astype(np.float64), no_rows), no_rows
    longest = max(len(line) for line in kept_lines)
    block_size = max(_DEFAULT_BLOCK_BYTES, longest + 2)  # ids may be long; numbers are not
    columns = _parse(pa.py_buffer(b"\n".join(kept_lines) + b"\n"), layout, block_size)
    return columns, np.asarray(kept_numbers, dtype=np.int64)


def _check_values(
    rows: RatingColumns,
    rating64: np.ndarray,
    path: str,
    layout: RatingLayout,
    on_bad_rows: OnBadRows,
    report: ReadReport,
) -> np.ndarray:
    """Marks rows whose parsed values break the format; raises at the earliest or counts them."""
    if not len(rating64):
        return np.zeros(0, dtype=bool)
    user, movie, rating, timestamp = layout.column_names
    user_numeric, movie_numeric = _is_numeric(rows.user_id), _is_numeric(rows.movie_id)
    # Numeric ids become int64 keys downstream (histories, canonical folds): 18 digits at most.
    user_long, movie_long = _is_long(rows.user_id), _is_long(rows.movie_id)
    low, step = (1.0, 1.0) if layout.scale == "whole" else (0.5, 0.5)
    in_range = (rating64 >= low) & (rating64 <= 5.0)  # False for NaN
    steps = np.where(in_range, rating64 / step, 0.0)
    in_range &= steps.astype(np.int64) == steps  # a whole number of steps (cheaper than round)
    time_in_range = (rows.timestamp >= 0) & (rows.timestamp < _TIMESTAMP_LIMIT)
    ids_valid = user_numeric.all() and movie_numeric.all() and not (user_long | movie_long).any()
    if ids_valid and in_range.all() and time_in_range.all():
        return np.zeros(len(rating64), dtype=bool)  # the common case: one pass, no detail
    missing_rating = np.isnan(rating64)
    missing_time = rows.timestamp == _MISSING_TIMESTAMP
    time_expected = "unix seconds (a non-negative integer)"
    checks = (
        ("non-numeric id", user, rows.user_id, ~user_numeric, "a numeric id"),
        ("non-numeric id", movie, rows.movie_id, ~movie_numeric, "a numeric id"),
        ("id out of range", user, rows.user_id, user_long & user_numeric, ID_RANGE_EXPECTED),
        ("id out of range", movie, rows.movie_id, movie_long & movie_numeric, ID_RANGE_EXPECTED),
        ("missing or NaN rating", rating, rating64, missing_rating, layout.rating_expected),
        (
            "rating out of range",
            rating,
            rating64,
            ~in_range & ~missing_rating,
            layout.rating_expected,
        ),
        ("missing timestamp", timestamp, rows.timestamp, missing_time, time_expected),
        (
            "negative timestamp",
            timestamp,
            rows.timestamp,
            (rows.timestamp < 0) & ~missing_time,
            time_expected,
        ),
        (
            "timestamp out of range",
            timestamp,
            rows.timestamp,
            rows.timestamp >= _TIMESTAMP_LIMIT,
            TIMESTAMP_RANGE_EXPECTED,
        ),
    )
    bad = np.zeros(len(rating64), dtype=bool)
    errors: list[tuple[int, DataError]] = []
    for problem, column, values, mask, expected in checks:
        indices = np.flatnonzero(mask & ~bad)
        if not len(indices):
            continue
        first = int(indices[0])
        value = values[first]
        value = value.as_py() if isinstance(value, pa.Scalar) else value.item()
        if problem == "missing timestamp":
            value = ""
        elif column == rating and layout.scale == "whole" and np.isfinite(value):
            value = int(value)  # whole-star files hold integers: show what the file says
        error = DataError(
            problem,
            path=path,
            line=int(rows.line[first]),
            column=column,
            value=value,
            expected=expected,
        )
        errors.append((first, error))
        report.drop(problem, count=len(indices), example=str(error))
        bad |= mask
    if errors and on_bad_rows == "raise":
        raise min(errors, key=lambda item: item[0])[1]
    return bad


def first_line_end(data: bytes, start: int = 0) -> int:
    """Where the line starting at `start` ends: its first CR or LF (the file's end if none)."""
    ends = [found for found in (data.find(b"\n", start), data.find(b"\r", start)) if found >= 0]
    return min(ends, default=len(data))


def next_line_start(data: bytes, end: int) -> int:
    """Where the line after the one ending at `end` starts (CR LF counted once)."""
    return min(len(data), end + (2 if data[end : end + 2] == b"\r\n" else 1))


def _is_blank(data: bytes, start: int) -> bool:
    """True when nothing but whitespace follows `start` (looks at a small prefix first)."""
    if data[start : start + 4096].strip():
        return False
    return not data[start:].strip()


def _has_blank_rows(
    user_id: pa.Array, movie_id: pa.Array, rating: np.ndarray, timestamp: np.ndarray
) -> bool:
    """True when a row came from an empty line (all four fields empty)."""
    suspects = np.flatnonzero(np.isnan(rating) & (timestamp == _MISSING_TIMESTAMP))
    if not len(suspects):
        return False
    take = pa.array(suspects)
    users, movies = user_id.take(take).to_pylist(), movie_id.take(take).to_pylist()
    return any(user == "" and movie == "" for user, movie in zip(users, movies, strict=True))


def _is_long(ids: pa.Array) -> np.ndarray:
    lengths = pc.utf8_length(ids).to_numpy(zero_copy_only=False)
    return np.asarray(lengths > MAX_ID_DIGITS, dtype=bool)


def _is_numeric(ids: pa.Array) -> np.ndarray:
    return pc.ascii_is_decimal(ids).to_numpy(zero_copy_only=False)
