"""Per-line rules of the diagnostic pass: what the fast parser would reject, and why."""

from __future__ import annotations

from tfrs_mtl.data.rating_layout import LAYOUT_1M, LAYOUT_CSV, diagnose_line


def test_parsable_lines_pass() -> None:
    assert diagnose_line(b"1,31,2.5,1260759144", 2, "r.csv", LAYOUT_CSV) is None
    assert diagnose_line(b"1::1193::5::978300760\r", 1, "r.dat", LAYOUT_1M) is None


def test_each_field_is_checked_in_order() -> None:
    error = diagnose_line(b"1,31,2.5.1,x", 7, "r.csv", LAYOUT_CSV)
    assert error is not None
    assert (error.line, error.column, error.value) == (7, "rating", "2.5.1")


def test_field_count_and_encoding() -> None:
    error = diagnose_line(b"1::1193::5", 3, "r.dat", LAYOUT_1M)
    assert error is not None and error.problem == "wrong number of fields"
    error = diagnose_line(b"1,\xff,2.5,1", 3, "r.csv", LAYOUT_CSV)
    assert error is not None and error.problem == "invalid text encoding"
