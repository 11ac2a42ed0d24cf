"""read_csv_rows: the fast mode gives up on malformed files; the diagnostic mode finds lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl.data.csv_rows import delimiter_hint, read_csv_rows

NAMES = ("a", "b", "c")


def _read(path: Path, diagnostic: bool, skip_rows: int = 1, encoding: str = "utf-8"):  # type: ignore[no-untyped-def]
    return read_csv_rows(
        path, names=NAMES, columns=("a", "c"), skip_rows=skip_rows, delimiter=",",
        encoding=encoding, diagnostic=diagnostic,
    )  # fmt: skip


def test_fast_mode_reads_text_columns_without_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5,6\n")
    rows = _read(path, diagnostic=False)
    assert rows is not None
    assert rows.table.column_names == ["a", "c"]
    assert rows.table.column("c").to_pylist() == ["3", "6"]
    assert rows.lines is None


def test_fast_mode_gives_up_on_a_malformed_row(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,2,3\n4,5\n")
    assert _read(path, diagnostic=False) is None


def test_diagnostic_mode_maps_rows_to_physical_lines(tmp_path: Path) -> None:
    # lines: 1 header, 2 row, 3 blank, 4 short, 5 row, 6 blank (CRLF), 7 long, 8 row
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b,c\n1,2,3\n\n4,5\n6,7,8\r\n\r\n9,10,11,12\n13,14,15")
    rows = _read(path, diagnostic=True)
    assert rows is not None
    assert rows.table.column("a").to_pylist() == ["1", "6", "13"]
    assert rows.lines is not None
    assert rows.lines.tolist() == [2, 5, 8]
    assert [(m.line, m.problem) for m in rows.malformed] == [
        (4, "2 fields instead of 3"),
        (7, "4 fields instead of 3"),
    ]


def test_diagnostic_mode_drops_undecodable_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"1,2,3\n\xff,5,6\n7,8\xfe\n10,11,12\n")
    rows = _read(path, diagnostic=True, skip_rows=0)
    assert rows is not None
    assert rows.table.column("a").to_pylist() == ["1", "10"]
    assert rows.lines is not None
    assert rows.lines.tolist() == [1, 4]
    assert [(m.line, m.reason, m.value) for m in rows.malformed] == [
        (2, "invalid text encoding", b"\xff,5,6"),
        (3, "invalid text encoding", b"7,8\xfe"),
    ]


@pytest.mark.parametrize(
    ("text", "delimiter", "hint"),
    [
        ("1\t2\t3", ",", " (the line contains '\\t': is the delimiter '\\t'?)"),
        ("1;2;3", ",", " (the line contains ';': is the delimiter ';'?)"),
        ("1,2,3", ",", ""),
    ],
)
def test_delimiter_hint(text: str, delimiter: str, hint: str) -> None:
    assert delimiter_hint(text, delimiter) == hint
