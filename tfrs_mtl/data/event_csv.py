"""Any CSV or Parquet event table, read into an `EventLog` through a column mapping.

Example:
    >>> log = read_event_table(  # doctest: +SKIP
    ...     "clicks.csv",
    ...     column_map={"user_id": "visitor", "item_id": "sku", "behavior": "event",
    ...                 "timestamp": "ts"},
    ...     behavior_map={"view": "click", "basket": "cart", "order": "purchase"},
    ... )

Every value is checked with vectorized kernels. A bad row raises a `DataError` naming the file,
its 1-based line (Parquet: row), the column, the value and what was expected; with
`on_bad_rows="skip"` bad rows are dropped instead, counted by reason in `EventLog.report`, and
one `UserWarning` says how many. Files that fail the fast read are read a second time in a
slower diagnostic mode that can point at lines.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tfrs_mtl._input_files import file_problem
from tfrs_mtl.data.csv_rows import CsvRows, MalformedLine, delimiter_hint, read_csv_rows
from tfrs_mtl.data.errors import (
    DataError,
    DataNotFoundError,
    OnBadRows,
    ReadReport,
    check_on_bad_rows,
)
from tfrs_mtl.data.event_columns import CANONICAL_COLUMNS, BadValues, ColumnSpec, parse_columns
from tfrs_mtl.data.events import EventLog

PARQUET_SUFFIXES = (".parquet", ".pq")
MAX_HEADER_BYTES = 1 << 16

Parsed = TypeVar("Parsed")


def _value(table: pa.Table, column: str, row: int) -> Any:
    value = table.column(column)[row].as_py()
    return value[:100] if isinstance(value, str) else value


def _read_header(path: Path, delimiter: str, encoding: str) -> tuple[list[str], str]:
    with path.open("rb") as file:
        raw = file.readline(MAX_HEADER_BYTES + 1)
    # The first line only, whatever ends it: a file with CR line ends (old Mac) included.
    raw = raw.split(b"\r", 1)[0].rstrip(b"\n")
    if len(raw) > MAX_HEADER_BYTES:
        raise DataError(
            f"the header line is longer than {MAX_HEADER_BYTES:,} bytes",
            path=path,
            line=1,
            value=raw[:100],
            expected=f"a {delimiter!r}-separated header of column names",
        )
    try:
        text = raw.decode(
            "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        )
    except UnicodeDecodeError as error:
        raise DataError(
            "the header is not valid text",
            path=path,
            line=1,
            value=raw[:100],
            expected=f"{encoding} text (pass encoding=... if the file uses another)",
        ) from error
    try:
        fields = next(csv.reader([text], delimiter=delimiter)) if text else []
    except csv.Error as error:
        raise DataError(
            f"the header cannot be read ({error})",
            path=path,
            line=1,
            value=text[:100],
            expected=f"a {delimiter!r}-separated header of column names",
        ) from None
    return [name.strip() for name in fields], text


def _check_file(path: Path) -> None:
    problem = file_problem(path)
    if problem == "does not exist":
        raise DataNotFoundError(f"{path}: no such file")
    if problem is not None:
        raise DataError(problem, path=path, expected="a regular file of events")
    if path.stat().st_size == 0:
        raise DataError("the file is empty", path=path, expected="rows of events")


def _parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except (pa.ArrowException, OSError) as error:
        raise DataError(f"not a readable Parquet file ({error})", path=path) from error


def _read_parquet(path: Path, columns: Sequence[str]) -> pa.Table:
    available = _parquet_columns(path)
    missing = [name for name in columns if name not in available]
    if missing:
        raise DataError(
            f"no column(s) {missing}",
            path=path,
            value=available,
            expected=f"the columns named in column_map: {list(columns)}",
        )
    try:
        return pq.read_table(path, columns=list(columns))
    except (pa.ArrowException, OSError) as error:  # a sound footer over damaged pages
        raise DataError(f"not a readable Parquet file ({error})", path=path) from error


def _read_text(
    path: Path,
    columns: Sequence[str],
    *,
    delimiter: str,
    column_names: Sequence[str] | None,
    encoding: str,
    diagnostic: bool,
) -> CsvRows | None:
    if column_names is None:
        names, header = _read_header(path, delimiter, encoding)
        missing = [name for name in columns if name not in names]
        if missing:
            raise DataError(
                f"the header has no column(s) {missing}",
                path=path,
                line=1,
                value=header[:100],
                expected=f"a {delimiter!r}-separated header naming {list(columns)}"
                + delimiter_hint(header, delimiter),
            )
        if len(set(names)) < len(names):
            raise DataError("the header repeats a column name", path=path, line=1, value=names)
    else:
        names = list(column_names)
    return read_csv_rows(
        path,
        names=names,
        columns=columns,
        skip_rows=0 if column_names else 1,
        delimiter=delimiter,
        encoding=encoding,
        diagnostic=diagnostic,
    )


def read_checked_table(
    path: str | os.PathLike[str],
    columns: Sequence[str],
    check: Callable[[pa.Table], tuple[Parsed, list[BadValues]]],
    *,
    delimiter: str = ",",
    column_names: Sequence[str] | None = None,
    encoding: str = "utf-8",
    on_bad_rows: OnBadRows = "raise",
) -> tuple[Parsed, np.ndarray | None, ReadReport]:
    """Reads `columns` of a text or Parquet table as text and checks them with `check`.

    The fast read runs first; when it or `check` finds a problem in a text file, the file is
    read again in diagnostic mode so that every problem has a line.

    Args:
        path: a delimited text file, or Parquet when the suffix is `.parquet` or `.pq`.
        columns: the source columns to read.
        check: parses a `[num_rows]` table of those columns; returns the parsed result and
            one `BadValues` per problem found.
        delimiter: the field delimiter of a text file.
        column_names: the fields of a file without a header; None means the first line is one.
        encoding: the text encoding of a text file.
        on_bad_rows: `"raise"` a `DataError` at the first bad row, or `"skip"` bad rows.

    Returns:
        what `check` parsed, a `[num_rows]` mask of the rows to keep (None: all), and the
        report (no warning here: callers warn once for all their files).

    Raises:
        DataNotFoundError: the file does not exist.
        DataError: the file is empty or malformed, or a value is bad under `"raise"`.
    """
    check_on_bad_rows(on_bad_rows)
    path = Path(path)
    _check_file(path)
    is_parquet = path.suffix.lower() in PARQUET_SUFFIXES
    options: dict[str, Any] = {
        "delimiter": delimiter,
        "column_names": column_names,
        "encoding": encoding,
    }
    if is_parquet:
        table = _read_parquet(path, columns)
        rows: CsvRows | None = CsvRows(table, np.arange(1, table.num_rows + 1))
    else:
        rows = _read_text(path, columns, diagnostic=False, **options)
    if rows is not None:
        parsed, bad_values = check(rows.table)
    if rows is None or (bad_values and rows.lines is None):
        rows = _read_text(path, columns, diagnostic=True, **options)
        assert rows is not None and rows.lines is not None
        parsed, bad_values = check(rows.table)
    if rows.table.num_rows == 0 and not rows.malformed:
        raise DataError("the file has no data rows", path=path, expected="at least one row")
    located = rows

    def value_error(bad: BadValues) -> DataError:
        row = int(np.argmax(bad.rows))
        assert located.lines is not None
        where = {} if is_parquet else {"line": int(located.lines[row])}
        return DataError(
            (f"row {row + 1}: " if is_parquet else "") + bad.reason,
            path=path,
            column=bad.source_column,
            value=_value(located.table, bad.source_column, row),
            expected=bad.expected,
            **where,
        )

    def line_error(line: MalformedLine) -> DataError:
        return DataError(
            line.problem, path=path, line=line.line, value=line.value, expected=line.expected
        )

    errors = [(line.line, line_error(line)) for line in rows.malformed]
    if bad_values:
        assert rows.lines is not None
        errors += [(int(rows.lines[np.argmax(bad.rows)]), value_error(bad)) for bad in bad_values]
    if on_bad_rows == "raise" and errors:
        raise min(errors, key=lambda pair: pair[0])[1]
    report = ReadReport(num_rows_read=rows.table.num_rows + len(rows.malformed))
    reasons = Counter(line.reason for line in rows.malformed)
    for reason, count in reasons.items():
        first = next(line for line in rows.malformed if line.reason == reason)
        report.drop(reason, count, str(line_error(first)))
    dropped = np.zeros(rows.table.num_rows, dtype=bool)
    for bad in bad_values:
        # A row bad in several ways is counted once, under its first reason.
        report.drop(bad.reason, int((bad.rows & ~dropped).sum()), str(value_error(bad)))
        dropped |= bad.rows
    if report.num_rows_dropped == report.num_rows_read:
        example = report.examples[0] if report.examples else ""
        raise DataError(f"every row is bad ({report.summary()}); the first: {example}", path=path)
    return parsed, (~dropped if bad_values else None), report


def read_events(
    path: str | os.PathLike[str],
    spec: ColumnSpec,
    *,
    delimiter: str = ",",
    column_names: Sequence[str] | None = None,
    encoding: str = "utf-8",
    on_bad_rows: OnBadRows = "raise",
) -> tuple[pd.DataFrame, ReadReport]:
    """Reads one event file into a canonical events frame; the building block of the readers.

    Args:
        path: a CSV/TSV file, or Parquet when the suffix is `.parquet` or `.pq`.
        spec: where each canonical column comes from and how to read it.
        delimiter, column_names, encoding, on_bad_rows: as for `read_checked_table`.

    Returns:
        the canonical events frame and a report of rows read and dropped.
    """
    problems = spec.problems()
    if problems:
        raise ValueError("; ".join(problems))
    if column_names is not None and set(spec.source_columns) - set(column_names):
        raise ValueError(f"column_map names {spec.source_columns}, not all in {column_names}")
    parsed, keep, report = read_checked_table(
        path,
        spec.source_columns,
        lambda table: parse_columns(table, spec),
        delimiter=delimiter,
        column_names=column_names,
        encoding=encoding,
        on_bad_rows=on_bad_rows,
    )
    return parsed.to_frame(keep), report


def read_event_table(
    path: str | os.PathLike[str],
    column_map: Mapping[str, str] | None = None,
    behavior_map: Mapping[str, str] | None = None,
    *,
    delimiter: str = ",",
    column_names: Sequence[str] | None = None,
    default_behavior: str | None = None,
    integer_ids: bool = False,
    timestamp_unit: Literal["s", "ms"] = "s",
    encoding: str = "utf-8",
    name: str | None = None,
    on_bad_rows: OnBadRows = "raise",
) -> EventLog:
    """Reads a CSV/TSV or Parquet table of events into an `EventLog`.

    Args:
        path: the file; Parquet when its suffix is `.parquet` or `.pq`.
        column_map: canonical column (`user_id`, `item_id`, `behavior`, `timestamp`,
            `category`, `brand`, `price`) -> source column name. None maps every canonical
            name the header (or Parquet schema) holds to itself.
        behavior_map: source behaviour value -> canonical behaviour; None when the source
            already uses the canonical names.
        delimiter: the field delimiter of a text file.
        column_names: the field names of a headerless text file, in order.
        default_behavior: the behaviour of every row when there is no behaviour column.
        integer_ids: require ids to be non-negative integers.
        timestamp_unit: `"s"` or `"ms"` (floored to seconds).
        encoding: the text encoding of a text file.
        name: the log's name; defaults to the file's stem.
        on_bad_rows: `"raise"` (default) or `"skip"` bad rows.

    Returns:
        the events in the canonical schema, `items=None`.
    """
    path = Path(path)
    if column_map is None:
        _check_file(path)
        if path.suffix.lower() in PARQUET_SUFFIXES:
            available: Sequence[str] = _parquet_columns(path)
        else:
            available = column_names or _read_header(path, delimiter, encoding)[0]
        column_map = {column: column for column in CANONICAL_COLUMNS if column in available}
    spec = ColumnSpec(
        dict(column_map),
        behavior_map=behavior_map,
        default_behavior=default_behavior,
        integer_ids=integer_ids,
        timestamp_unit=timestamp_unit,
    )
    events, report = read_events(
        path,
        spec,
        delimiter=delimiter,
        column_names=column_names,
        encoding=encoding,
        on_bad_rows=on_bad_rows,
    )
    report.warn_if_dropped(str(path))
    return EventLog(name or path.stem, events, None, str(path), report)
