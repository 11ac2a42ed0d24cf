"""Catalogue parsers: u.item, u.user, movies.dat, users.dat, movies.csv, line by line."""

from __future__ import annotations

import pytest

from tfrs_mtl.data.errors import DataError, ReadReport
from tfrs_mtl.data.movielens_formats import (
    parse_1m_movies,
    parse_100k_movies,
    parse_100k_users,
    parse_csv_movies,
)

FLAGS = "|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0"  # Animation, Children's, Comedy
ITEM = "1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)"


def test_100k_movies() -> None:
    data = (ITEM + FLAGS + "\n").encode("latin-1") + b"2|Mis\xe9rables (1995)|||u" + b"|0" * 19
    movies = parse_100k_movies(data, "u.item", "raise", ReadReport())
    assert movies.movie_id == ["1", "2"]
    assert movies.movie_title == ["Toy Story (1995)", "Misérables (1995)"]
    assert movies.movie_genres == [[2, 3, 4], []]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (ITEM + FLAGS[:-2], "line 2: wrong number of fields"),
        (ITEM + FLAGS[:-1] + "2", "line 2, column 'genre flags': bad genre flag; found '2'"),
        ("x" + ITEM[1:] + FLAGS, "line 2, column 'movie id': non-numeric id; found 'x'"),
    ],
)
def test_bad_100k_movie_lines(line: str, message: str) -> None:
    data = f"{ITEM}{FLAGS}\n{line}\n".encode("latin-1")
    with pytest.raises(DataError, match=message):
        parse_100k_movies(data, "u.item", "raise", ReadReport())


def test_100k_users_and_skip() -> None:
    data = b"1|24|M|technician|85711\n2|53|F|astronaut|94043\n3|x|M|writer|32067\n"
    with pytest.raises(DataError, match="line 2, column 'occupation': unknown occupation"):
        parse_100k_users(data, "u.user", "raise", ReadReport())
    report = ReadReport()
    users = parse_100k_users(data, "u.user", "skip", report)
    assert users.user_id == ["1"]
    assert users.bucketized_user_age.tolist() == [18.0]
    assert users.user_occupation_label.tolist() == [18]  # technician/engineer
    assert report.reasons == {"unknown occupation": 1, "bad age": 1}


def test_1m_movies_need_three_fields() -> None:
    with pytest.raises(DataError, match=r"movies\.dat, line 1: wrong number of fields"):
        parse_1m_movies(b"1::Toy Story (1995)\n", "movies.dat", "raise", ReadReport())


def test_csv_movies_header_and_empty() -> None:
    with pytest.raises(DataError, match="line 1: unexpected header; found 'id,title,genres'"):
        parse_csv_movies(b"id,title,genres\n1,A,Drama\n", "movies.csv", "raise", ReadReport())
    with pytest.raises(DataError, match="empty file"):
        parse_csv_movies(b"movieId,title,genres\n", "movies.csv", "raise", ReadReport())
