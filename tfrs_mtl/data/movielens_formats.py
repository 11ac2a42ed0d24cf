"""Parsers for the MovieLens catalogue files: movies (`u.item`, `movies.dat`, `movies.csv`) and
users (`u.user`, `users.dat`), each validated line by line like TFDS reads them.

These files are small (at most ~62k lines), so they are parsed in Python; the large rating files
go through the vectorized `rating_file.read_rating_file`.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import numpy as np

from tfrs_mtl.data.errors import DataError, OnBadRows, ReadReport
from tfrs_mtl.data.movielens_schema import (
    AGE_CODES_1M,
    GENRE_NAMES,
    GENRES_100K,
    OCCUPATION_LABELS,
    OCCUPATIONS_1M,
    OCCUPATIONS_100K,
    bucketize_age,
    occupation_label,
)
from tfrs_mtl.data.rating_file import (
    ID_RANGE_EXPECTED,
    MAX_ID_DIGITS,
    first_line_end,
    next_line_start,
)

Row = TypeVar("Row")
_ID = re.compile(r"[0-9]+")
#: Ages accepted in `u.user` (its own range is 7 to 73).
MIN_AGE, MAX_AGE = 1, 120
_GENRE_INDEX = {name: index for index, name in enumerate(GENRE_NAMES)}


@dataclasses.dataclass
class MovieTable:
    """Movies in file order: the rows of TFDS `movielens/<config>-movies`.

    Attributes:
        movie_id: raw id text per movie.
        movie_title: title per movie.
        movie_genres: `GENRE_NAMES` indices per movie, in the file's order.
    """

    movie_id: list[str]
    movie_title: list[str]
    movie_genres: list[list[int]]


@dataclasses.dataclass
class UserTable:
    """Users of ml-100k / ml-1m, with TFDS's demographic features (numpy, `[num_users]`)."""

    user_id: list[str]
    user_gender: np.ndarray
    bucketized_user_age: np.ndarray
    user_occupation_label: np.ndarray
    user_occupation_text: list[str]
    user_zip_code: list[str]
    raw_user_age: np.ndarray | None


def _numbered_lines(data: bytes, first_line: int) -> Iterator[tuple[int, bytes]]:
    return enumerate(data.splitlines(), start=first_line)


def _csv_records(data: bytes, first_line: int) -> Iterator[tuple[int, bytes]]:
    """CSV records with the line each starts on: a quoted field may hold line breaks."""
    start, pending = first_line, b""
    for number, raw in enumerate(data.splitlines(), start=first_line):
        if not pending:
            start, pending = number, raw
        else:
            pending += b"\n" + raw
        if pending.count(b'"') % 2 == 0:  # every quote closed: the record is whole
            yield start, pending
            pending = b""
    if pending:
        yield start, pending  # an unclosed quote: the parser reports the record


def _parse_lines(
    data: bytes,
    path: str,
    encoding: str,
    parse: Callable[[str], Row],
    on_bad_rows: OnBadRows,
    report: ReadReport,
    *,
    key: tuple[str, Callable[[Row], str]] | None = None,
    first_line: int = 1,
    records: Callable[[bytes, int], Iterator[tuple[int, bytes]]] = _numbered_lines,
) -> Iterator[Row]:
    """Yields `parse(line)` for each stripped line, raising or dropping on `DataError`.

    `key = (column, get_key)` refuses a row whose key an earlier row has (its first row is
    kept under `skip`): a catalogue names each movie or user once.
    """
    if not data.strip():
        raise DataError("empty file", path=path, expected="one record per line")
    first_lines: dict[str, int] = {}
    for number, raw in records(data, first_line):
        report.num_rows_read += 1
        try:
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                raise DataError(
                    "invalid text encoding", path=path, line=number, value=raw, expected="UTF-8"
                ) from None
            row = parse(text.strip())
            if key is not None:
                column, get_key = key
                first = first_lines.setdefault(get_key(row), number)
                if first != number:
                    raise DataError(
                        f"duplicate {column}",
                        column=column,
                        value=get_key(row),
                        expected=f"each id on one line only (first on line {first})",
                    )
            yield row
        except DataError as error:
            if error.path is None:
                error = DataError(
                    error.problem,
                    path=path,
                    line=number,
                    column=error.column,
                    value=error.value,
                    expected=error.expected,
                )
            if on_bad_rows == "raise":
                raise error from None
            report.drop(error.problem, example=str(error))


def _first(row: Sequence[Any]) -> str:
    """The id of a parsed catalogue row (its first value)."""
    return str(row[0])


def _fields(text: str, separator: str, count: int) -> list[str]:
    fields = text.split(separator)
    if len(fields) != count:
        problem = "empty line" if not text else "wrong number of fields"
        raise DataError(problem, value=text, expected=f"{count} fields separated by {separator!r}")
    return fields


def _check_id(value: str, column: str) -> str:
    if not _ID.fullmatch(value):
        raise DataError("non-numeric id", column=column, value=value, expected="a numeric id")
    if len(value) > MAX_ID_DIGITS:  # ids become int64 keys downstream
        raise DataError("id out of range", column=column, value=value, expected=ID_RANGE_EXPECTED)
    return value


def _small_integer(value: str, low: int, high: int, problem: str, column: str) -> int:
    """`value` as an integer from `low` to `high`; checked as text first (no huge `int()`)."""
    if not _ID.fullmatch(value) or len(value) > len(str(high)) or not low <= int(value) <= high:
        raise DataError(
            problem, column=column, value=value, expected=f"an integer from {low} to {high}"
        )
    return int(value)


def _genre_indices(names: list[str], column: str) -> list[int]:
    unknown = [name for name in names if name not in _GENRE_INDEX]
    if unknown:
        raise DataError(
            "unknown genre",
            column=column,
            value=unknown[0],
            expected=f"'|'-separated names from {list(GENRE_NAMES)}",
        )
    return [_GENRE_INDEX[name] for name in names]


def _movies(rows: Iterator[tuple[str, str, list[int]]]) -> MovieTable:
    table = MovieTable([], [], [])
    for movie_id, title, genres in rows:
        table.movie_id.append(movie_id)
        table.movie_title.append(title)
        table.movie_genres.append(genres)
    return table


def parse_100k_movies(
    data: bytes, path: str, on_bad_rows: OnBadRows, report: ReadReport
) -> MovieTable:
    """`u.item`: `|`-separated id, title, dates, URL and 19 genre flags (ISO-8859-1)."""

    def parse(text: str) -> tuple[str, str, list[int]]:
        fields = _fields(text, "|", 5 + len(GENRES_100K))
        flags = fields[5:]
        bad = [flag for flag in flags if flag not in ("0", "1")]
        if bad:
            raise DataError("bad genre flag", column="genre flags", value=bad[0], expected="0 or 1")
        names = [name for name, flag in zip(GENRES_100K, flags, strict=True) if flag == "1"]
        return _check_id(fields[0], "movie id"), fields[1], _genre_indices(names, "genres")

    rows = _parse_lines(data, path, "latin-1", parse, on_bad_rows, report, key=("movie id", _first))
    return _movies(rows)


def parse_1m_movies(
    data: bytes, path: str, on_bad_rows: OnBadRows, report: ReadReport
) -> MovieTable:
    """`movies.dat`: `MovieID::Title::Genres`, genres `|`-separated, "Children's" -> Children."""

    def parse(text: str) -> tuple[str, str, list[int]]:
        movie_id, title, genres = _fields(text, "::", 3)
        names = ["Children" if name == "Children's" else name for name in genres.split("|")]
        return _check_id(movie_id, "MovieID"), title, _genre_indices(names, "Genres")

    rows = _parse_lines(data, path, "latin-1", parse, on_bad_rows, report, key=("MovieID", _first))
    return _movies(rows)


MOVIES_CSV_HEADER = ("movieId", "title", "genres")


def parse_csv_movies(
    data: bytes, path: str, on_bad_rows: OnBadRows, report: ReadReport
) -> MovieTable:
    """`movies.csv` (UTF-8, header `movieId,title,genres`), read like `csv.DictReader`: a
    quoted title may hold commas, quotes and line breaks; a leading BOM is allowed."""
    end = first_line_end(data)  # LF, CR LF or CR (old Mac) line ends
    head, body = data[:end], data[next_line_start(data, end) :]
    head_text = head.decode("utf-8-sig", errors="replace").strip()
    header = tuple(next(csv.reader([head_text]), []))
    if header != MOVIES_CSV_HEADER:
        raise DataError(
            "unexpected header",
            path=path,
            line=1,
            value=",".join(header),
            expected=",".join(MOVIES_CSV_HEADER),
        )

    def parse(text: str) -> tuple[str, str, list[int]]:
        # Only quoted records need the csv module; plain splitting is the same and faster.
        try:
            fields = next(csv.reader([text]), []) if '"' in text else text.split(",")
        except csv.Error as error:
            raise DataError(
                f"malformed CSV ({error})", value=text, expected="3 comma-separated fields"
            ) from None
        if len(fields) != 3:
            problem = "empty line" if not text else "wrong number of fields"
            raise DataError(problem, value=text, expected="3 comma-separated fields")
        movie_id, title, genres = fields
        return _check_id(movie_id, "movieId"), title, _genre_indices(genres.split("|"), "genres")

    rows = _parse_lines(
        body,
        path,
        "utf-8",
        parse,
        on_bad_rows,
        report,
        key=("movieId", _first),
        first_line=2,
        records=_csv_records,
    )
    return _movies(rows)


def parse_100k_users(
    data: bytes, path: str, on_bad_rows: OnBadRows, report: ReadReport
) -> UserTable:
    """`u.user`: `user id|age|gender|occupation|zip code`."""

    def parse(text: str) -> tuple[str, int, bool, str, str]:
        user_id, age, gender, occupation, zip_code = _fields(text, "|", 5)
        years = _small_integer(age, MIN_AGE, MAX_AGE, "bad age", "age")
        if gender not in ("M", "F"):
            raise DataError("bad gender", column="gender", value=gender, expected="'M' or 'F'")
        if occupation not in OCCUPATIONS_100K:
            raise DataError(
                "unknown occupation",
                column="occupation",
                value=occupation,
                expected=f"one of {sorted(OCCUPATIONS_100K)}",
            )
        return _check_id(user_id, "user id"), years, gender == "M", occupation, zip_code

    rows = list(
        _parse_lines(data, path, "latin-1", parse, on_bad_rows, report, key=("user id", _first))
    )
    ages = np.asarray([row[1] for row in rows], dtype=np.int64)
    return UserTable(
        user_id=[row[0] for row in rows],
        user_gender=np.asarray([row[2] for row in rows], dtype=bool),
        bucketized_user_age=bucketize_age(ages),
        user_occupation_label=np.asarray(
            [OCCUPATION_LABELS.index(OCCUPATIONS_100K[row[3]]) for row in rows], dtype=np.int64
        ),
        user_occupation_text=[row[3] for row in rows],
        user_zip_code=[row[4] for row in rows],
        raw_user_age=ages.astype(np.float32),
    )


def parse_1m_users(data: bytes, path: str, on_bad_rows: OnBadRows, report: ReadReport) -> UserTable:
    """`users.dat`: `UserID::Gender::Age::Occupation::Zip-code`, age and occupation coded."""

    def parse(text: str) -> tuple[str, bool, int, str, str]:
        user_id, gender, age, occupation, zip_code = _fields(text, "::", 5)
        if gender not in ("M", "F"):
            raise DataError("bad gender", column="Gender", value=gender, expected="'M' or 'F'")
        if age not in {str(code) for code in AGE_CODES_1M}:
            raise DataError(
                "bad age code", column="Age", value=age, expected=f"one of {list(AGE_CODES_1M)}"
            )
        code = _small_integer(
            occupation, 0, len(OCCUPATIONS_1M) - 1, "bad occupation code", "Occupation"
        )
        text_label = OCCUPATIONS_1M[code]
        return _check_id(user_id, "UserID"), gender == "M", int(age), text_label, zip_code

    rows = list(
        _parse_lines(data, path, "latin-1", parse, on_bad_rows, report, key=("UserID", _first))
    )
    return UserTable(
        user_id=[row[0] for row in rows],
        user_gender=np.asarray([row[1] for row in rows], dtype=bool),
        bucketized_user_age=np.asarray([row[2] for row in rows], dtype=np.float32),
        user_occupation_label=np.asarray([occupation_label(row[3]) for row in rows], np.int64),
        user_occupation_text=[row[3] for row in rows],
        user_zip_code=[row[4] for row in rows],
        raw_user_age=None,
    )
