"""Delimited text read with pyarrow, and on demand the physical line of every row.

`read_csv_rows` has two modes. The fast mode (multi-threaded pyarrow) returns the rows when the
file is well formed and None at the first sign of trouble (a row with the wrong number of
fields, invalid text encoding). The diagnostic mode, for files that need it, reads
single-threaded, skips and records malformed rows, and maps every row to its 1-based line in the
file so that errors can point at it. Both are vectorized; only malformed lines cost Python.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

_SCAN_BLOCK_BYTES = 1 << 24
_DEFAULT_BLOCK_BYTES = 1 << 20
_SHOWN_CHARS = 100
_OTHER_DELIMITERS = ("\t", ",", ";", "|", "::", " ")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]")


@dataclasses.dataclass(frozen=True)
class MalformedLine:
    """A line that is not a row: wrong number of fields, or not text in the file's encoding."""

    line: int
    reason: str
    problem: str
    value: str | bytes
    expected: str


@dataclasses.dataclass(frozen=True)
class CsvRows:
    """Rows read from a delimited file.

    Attributes:
        table: `[num_rows]` string columns, one per requested column.
        lines: `[num_rows]` 1-based line of each row, or None in fast mode.
        malformed: lines dropped from `table` (diagnostic mode only).
    """

    table: pa.Table
    lines: np.ndarray | None
    malformed: tuple[MalformedLine, ...] = ()


def delimiter_hint(text: str, delimiter: str) -> str:
    """A suggestion when a line looks separated by another delimiter than `delimiter`."""
    for other in _OTHER_DELIMITERS:
        if other not in (delimiter, " ") and other in text:
            return f" (the line contains {other!r}: is the delimiter {other!r}?)"
    return ""


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


@dataclasses.dataclass
class _LineScan:
    empty_lines: np.ndarray  # sorted 1-based numbers of empty lines
    undecodable: dict[int, bytes]  # 1-based line -> the raw line (first few kept in full)
    longest_line: int  # bytes of the longest line: pyarrow needs a block at least as long
    unclosed_quotes: dict[int, bytes]  # 1-based line -> a line whose quoted field never closes


def _unclosed_quote_lines(
    whole: bytes, codes: np.ndarray, starts: np.ndarray, ends: np.ndarray, delimiter: str
) -> dict[int, bytes]:
    """0-based index -> text of the lines that open a quoted field and never close it.

    pyarrow would read such a field on across the following lines, swallowing every row up
    to the next quote into one bad row. Candidates (a quote opening a field, an odd count of
    quotes) are few; the csv module confirms each.
    """
    quotes = codes == ord('"')
    if not quotes.any():
        return {}
    previous = np.concatenate([[10], codes[:-1]])
    opens = quotes & ((previous == 10) | (previous == ord(delimiter[0])))
    quote_count = np.concatenate([[0], np.cumsum(quotes)])
    open_count = np.concatenate([[0], np.cumsum(opens)])
    odd = (quote_count[ends] - quote_count[starts]) % 2 == 1
    candidates = np.flatnonzero(odd & (open_count[ends] > open_count[starts]))
    found = {}
    for index in candidates:
        raw = whole[starts[index] : ends[index]].rstrip(b"\r")
        try:
            next(csv.reader([raw.decode("latin-1")], delimiter=delimiter, strict=True))
        except csv.Error:
            found[int(index)] = raw
    return found


def _scan_lines(path: Path, encoding: str, delimiter: str) -> _LineScan:
    """Finds empty lines, lines that do not decode and lines with a quote that never closes,
    a block of whole lines at a time."""
    empty: list[np.ndarray] = []
    undecodable: dict[int, bytes] = {}
    unclosed: dict[int, bytes] = {}
    lines_before = 0
    longest = 0
    carry = b""
    with path.open("rb") as file:
        while True:
            block = file.read(_SCAN_BLOCK_BYTES)
            data = carry + block
            if not data:
                break
            cut = data.rfind(b"\n") + 1 if block else len(data)
            if cut == 0:
                carry = data
                continue
            whole, carry = data[:cut], data[cut:]
            codes = np.frombuffer(whole, dtype=np.uint8)
            newlines = np.flatnonzero(codes == 10)
            ends = newlines if whole.endswith(b"\n") else np.append(newlines, len(whole))
            starts = np.concatenate([[0], ends[:-1] + 1])
            lengths = ends - starts
            longest = max(longest, int(lengths.max(initial=0)))
            only_return = (lengths == 1) & (codes[np.minimum(starts, len(codes) - 1)] == 13)
            empty.append(lines_before + 1 + np.flatnonzero((lengths == 0) | only_return))
            for index, raw in _unclosed_quote_lines(whole, codes, starts, ends, delimiter).items():
                unclosed[lines_before + 1 + index] = raw
            text = whole.decode(encoding, errors="surrogateescape")
            position, line = 0, lines_before + 1
            for match in _ESCAPED_BYTES.finditer(text):
                line += text.count("\n", position, match.start())
                position = match.start()
                if line not in undecodable:
                    index = line - lines_before - 1
                    undecodable[line] = whole[starts[index] : ends[index]]
            lines_before += len(ends)
            if not block:
                break
    empty_lines = np.concatenate(empty) if empty else np.zeros(0, np.int64)
    return _LineScan(empty_lines.astype(np.int64), undecodable, longest, unclosed)


class _ReplacingReader(io.RawIOBase):
    """A file decoded with replacement characters for bad bytes, served as UTF-8."""

    def __init__(self, path: Path, encoding: str) -> None:
        self._file = path.open("rb")
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._buffer = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer and not self._done:
            raw = self._file.read(1 << 20)
            self._done = not raw
            self._buffer = memoryview(self._decoder.decode(raw, final=self._done).encode())
        count = min(len(target), len(self._buffer))
        target[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        return count

    def close(self) -> None:
        self._file.close()
        super().close()


def _options(
    names: Sequence[str],
    columns: Sequence[str],
    *,
    skip_rows: int,
    delimiter: str,
    encoding: str,
    threads: bool,
    handler: Any | None,
    block_size: int | None = None,
) -> dict[str, Any]:
    return {
        "read_options": pa_csv.ReadOptions(
            column_names=list(names),
            skip_rows=skip_rows,
            use_threads=threads,
            encoding=encoding,
            block_size=block_size,
        ),
        "parse_options": pa_csv.ParseOptions(delimiter=delimiter, invalid_row_handler=handler),
        "convert_options": pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in columns},
            include_columns=list(columns),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    }


def read_csv_rows(
    path: Path,
    *,
    names: Sequence[str],
    columns: Sequence[str],
    skip_rows: int,
    delimiter: str,
    encoding: str,
    diagnostic: bool,
) -> CsvRows | None:
    """Reads the `columns` of a delimited file whose fields are `names`, all as text.

    Args:
        path: the file.
        names: the name of every field of a row, in order.
        columns: the fields to keep.
        skip_rows: lines before the first row (1 for a header).
        delimiter: the field delimiter.
        encoding: the text encoding of the file.
        diagnostic: read slowly but locate every row and malformed line (see module docs).

    Returns:
        the rows, or None in fast mode when the file needs the diagnostic mode.
    """
    expected = f"{len(names)} fields separated by {delimiter!r}"
    if not diagnostic:
        # No row handler: pyarrow then stops at the first malformed row, which is all the fast
        # mode needs to know (and a handler cannot even see rows that are not UTF-8).
        options = _options(
            names,
            columns,
            skip_rows=skip_rows,
            delimiter=delimiter,
            encoding=encoding,
            threads=True,
            handler=None,
        )
        try:
            return CsvRows(pa_csv.read_csv(path, **options), None)
        except (pa.ArrowInvalid, UnicodeDecodeError):
            return None

    scan = _scan_lines(path, encoding, delimiter)
    malformed: dict[int, MalformedLine] = {}
    for line, raw in scan.undecodable.items():
        hint = " (pass encoding=... if the file uses another)" if _is_utf8(encoding) else ""
        reason = "invalid text encoding"
        problem = f"bytes that are not {encoding} text"
        expected_text = f"{encoding} text{hint}"
        malformed[line] = MalformedLine(line, reason, problem, raw[:_SHOWN_CHARS], expected_text)
    # Lines with a quote that never closes are blanked in what pyarrow reads (read as empty).
    blanked = sorted(line for line in scan.unclosed_quotes if line > skip_rows)
    for line in blanked:
        text = scan.unclosed_quotes[line][:_SHOWN_CHARS].decode(encoding, errors="replace")
        malformed.setdefault(
            line,
            MalformedLine(line, "unclosed quote", "a quote that does not close", text, expected),
        )
    empty_lines = np.union1d(scan.empty_lines, np.asarray(blanked, np.int64))
    empty_before = empty_lines - np.arange(len(empty_lines))

    def physical_line(ordinal: Any) -> Any:
        """Line number of the `ordinal`-th non-empty line (pyarrow counts those only)."""
        return ordinal + np.searchsorted(empty_before, ordinal, side="right")

    skipped_ordinals: list[int] = []

    def record(row: Any) -> str:
        line = int(physical_line(row.number))
        skipped_ordinals.append(row.number)
        if line not in malformed:
            problem = f"{row.actual_columns} fields instead of {len(names)}"
            hint = delimiter_hint(row.text, delimiter)
            malformed[line] = MalformedLine(
                line, "wrong number of fields", problem, row.text[:_SHOWN_CHARS], expected + hint
            )
        return "skip"

    replaced = bool(scan.undecodable) or not _is_utf8(encoding)
    source: Any = io.BufferedReader(_ReplacingReader(path, encoding)) if replaced else path
    if blanked:  # rare: the file is read into memory with those lines emptied
        with source if replaced else path.open("rb") as handle:
            lines = handle.read().split(b"\n")
        for line in blanked:
            lines[line - 1] = b""
        source, replaced = io.BytesIO(b"\n".join(lines)), True
    options = _options(
        names,
        columns,
        skip_rows=skip_rows,
        delimiter=delimiter,
        encoding="utf-8",
        threads=False,
        handler=record,
        # A line longer than pyarrow's block (1 MiB) would stop it: a block holds the longest
        # (three times over: each undecodable byte is read as a 3-byte replacement character).
        block_size=max(_DEFAULT_BLOCK_BYTES, 3 * scan.longest_line + 2),
    )
    try:
        table = pa_csv.read_csv(source, **options)
    finally:
        if replaced:
            source.close()
    ordinals = np.arange(skip_rows + 1, skip_rows + 1 + table.num_rows + len(skipped_ordinals))
    ordinals = ordinals[~np.isin(ordinals, skipped_ordinals)]
    lines = physical_line(ordinals).astype(np.int64)
    if scan.undecodable:
        # Rows of undecodable lines were read with replacement characters: drop them here.
        keep = ~np.isin(lines, np.fromiter(scan.undecodable, np.int64))
        table, lines = table.filter(pa.array(keep)), lines[keep]
    ordered = tuple(malformed[line] for line in sorted(malformed))
    return CsvRows(table, lines, ordered)
