"""Validation of MovieLens rating files: every bad input names file, line, column and value."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.data.errors import DataError, ReadReport
from tfrs_mtl.data.rating_file import (
    LAYOUT_1M,
    LAYOUT_100K,
    LAYOUT_CSV,
    read_rating_file,
)

HEADER = b"userId,movieId,rating,timestamp\n"


def _csv(body: bytes, **kwargs):
    return read_rating_file(HEADER + body, "ratings.csv", LAYOUT_CSV, **kwargs)


def test_csv_rows_are_parsed_with_lines_and_rows() -> None:
    rows = _csv(b"1,31,2.5,1260759144\n7,1029,3.0,1260759179\n")
    assert rows.user_id.to_pylist() == ["1", "7"]
    assert rows.movie_id.to_pylist() == ["31", "1029"]
    assert rows.rating.dtype == np.float32 and rows.rating.tolist() == [2.5, 3.0]
    assert rows.timestamp.dtype == np.int64 and rows.timestamp.tolist() == [1260759144, 1260759179]
    assert rows.line.tolist() == [2, 3]
    assert rows.row.tolist() == [0, 1]


def test_1m_double_colon_layout() -> None:
    rows = read_rating_file(
        b"1::1193::5::978300760\r\n2::661::3::978302109\r\n", "r.dat", LAYOUT_1M
    )
    assert rows.movie_id.to_pylist() == ["1193", "661"]
    assert rows.rating.tolist() == [5.0, 3.0]


@pytest.mark.parametrize(
    ("body", "line", "column", "value", "expected"),
    [
        (b"1,1,4.0,9\n1;1;4.0;9\n", 3, None, "1;1;4.0;9", "4 fields separated by ','"),
        (b"1,1,4.0\n", 2, None, "1,1,4.0", "4 fields separated by ','"),
        (b"u1,1,4.0,9\n", 2, "userId", "u1", "a numeric id"),
        (b"1,m2,4.0,9\n", 2, "movieId", "m2", "a numeric id"),
        (b"1,1,four,9\n", 2, "rating", "four", "a number from 0.5 to 5.0 in half steps"),
        (b"1,1,4.0,soon\n", 2, "timestamp", "soon", "unix seconds (a non-negative integer)"),
        (b"1,1,5.5,9\n", 2, "rating", 5.5, "a number from 0.5 to 5.0 in half steps"),
        (b"1,1,4.25,9\n", 2, "rating", 4.25, "a number from 0.5 to 5.0 in half steps"),
        (b"1,1,4.0,9\n2,2,NaN,9\n", 3, "rating", None, "a number from 0.5 to 5.0 in half steps"),
        (b"1,1,4.0,9\n\n2,2,3.0,9\n", 3, None, "", "4 fields separated by ','"),
    ],
)
def test_bad_csv_rows_name_line_column_value_and_expectation(
    body: bytes, line: int, column: str | None, value: object, expected: str
) -> None:
    with pytest.raises(DataError) as caught:
        _csv(body)
    error = caught.value
    assert (error.path, error.line, error.column, error.expected) == (
        "ratings.csv",
        line,
        column,
        expected,
    )
    if value is None:  # NaN
        assert np.isnan(error.value)
    else:
        assert error.value == value
    assert f"ratings.csv, line {line}" in str(error)


@pytest.mark.parametrize(
    ("body", "column", "value"),
    [
        (b"1\t1\t6\t9\n", "rating", 6),
        (b"1\t1\t0\t9\n", "rating", 0),
        (b"1\t1\t3.5\t9\n", "rating", "3.5"),
    ],
)
def test_100k_ratings_must_be_whole_stars(body: bytes, column: str, value: object) -> None:
    with pytest.raises(DataError, match="expected an integer from 1 to 5") as caught:
        read_rating_file(b"5\t5\t5\t5\n" + body, "u.data", LAYOUT_100K)
    assert (caught.value.line, caught.value.column, caught.value.value) == (2, column, value)


def test_wrong_delimiter_for_the_format() -> None:
    with pytest.raises(
        DataError, match=r"u\.data, line 1: wrong number of fields; found '1,1,3,9'"
    ):
        read_rating_file(b"1,1,3,9\n", "u.data", LAYOUT_100K)


def test_invalid_utf8_in_a_csv_release() -> None:
    with pytest.raises(DataError, match="line 3: invalid text encoding") as caught:
        _csv(b"1,1,4.0,9\n1\xff,1,4.0,9\n")
    assert caught.value.expected == "UTF-8 text"


@pytest.mark.parametrize("data", [b"", HEADER, HEADER + b"\n"])
def test_empty_file(data: bytes) -> None:
    layout = LAYOUT_CSV if data else LAYOUT_100K
    with pytest.raises(DataError, match="empty file"):
        read_rating_file(data, "f", layout)


def test_wrong_header() -> None:
    with pytest.raises(DataError, match="line 1: unexpected header; found 'user,movie,rating,ts'"):
        read_rating_file(b"user,movie,rating,ts\n1,1,4.0,9\n", "ratings.csv", LAYOUT_CSV)


def test_the_earliest_bad_line_is_reported() -> None:
    with pytest.raises(DataError) as caught:
        _csv(b"1,1,4.0,9\n1,1,4.0,-1\n1,1,9.0,9\n")
    assert (caught.value.line, caught.value.column) == (3, "timestamp")


def test_skip_drops_bad_rows_and_counts_why() -> None:
    report = ReadReport()
    rows = _csv(
        b"1,1,4.0,9\nx,1,4.0,9\n2,2,3.5,10\n3,3,7.0,11\n4,4\n5,5,0.5,12\n",
        on_bad_rows="skip",
        report=report,
    )
    assert rows.user_id.to_pylist() == ["1", "2", "5"]
    assert rows.line.tolist() == [2, 4, 7]
    assert rows.row.tolist() == [0, 2, 5]
    assert report.num_rows_read == 6
    assert report.num_rows_dropped == 3
    assert report.reasons == {
        "non-numeric id": 1,
        "rating out of range": 1,
        "wrong number of fields": 1,
    }


def test_skip_of_value_errors_alone_keeps_the_fast_path_lines() -> None:
    report = ReadReport()
    rows = _csv(b"1,1,4.0,9\n2,2,6.0,9\n3,3,1.0,9\n", on_bad_rows="skip", report=report)
    assert rows.line.tolist() == [2, 4]
    assert report.reasons == {"rating out of range": 1}
