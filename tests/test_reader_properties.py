"""Property tests: random malformed lines fed to the rating and event readers.

Every outcome is either a clean frame holding exactly the valid input rows (under
`on_bad_rows="skip"`, with one dropped row counted per invalid line) or a `DataError` naming
the file and a bad line (under `"raise"`), never another exception type. Validity is decided
here by an oracle written independently of the readers.
"""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tfrs_mtl.data.errors import DataError, ReadReport
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.movielens import load_movielens
from tfrs_mtl.data.rating_file import LAYOUT_CSV, read_rating_file

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
USERS = ("1", "2", "3")
MOVIES = ("1", "2", "5")
INT64_MAX = 2**63 - 1
_LINE_NUMBER = re.compile(r", line (\d+)")
BOM = b"\xef\xbb\xbf"

# A line never holds a line break: the property is about one line at a time.
_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=30
)
_bytes = st.binary(max_size=30).map(lambda raw: raw.replace(b"\n", b"").replace(b"\r", b""))
_digits = st.from_regex(r"[0-9]{1,4}", fullmatch=True)


def _fields_line(separator: str, values: list[str]) -> bytes:
    return separator.join(values).encode("utf-8")


def _near_miss(separator: str, rating_values: list[str]) -> st.SearchStrategy[bytes]:
    """Lines one edit away from valid: a bad field, a missing one, a wrong separator."""
    field = st.one_of(
        st.sampled_from(USERS + MOVIES),
        _digits,
        st.sampled_from(
            [
                "",
                " 1",
                "1 ",
                "+1",
                "-1",
                "1e0",
                "nan",
                "NaN",
                "inf",
                "0x1",
                "\uff11",
                "\u0663",
                "9" * 25,
            ]
        ),
        st.sampled_from(rating_values),
    )
    return st.one_of(
        st.lists(field, min_size=0, max_size=6).map(lambda values: _fields_line(separator, values)),
        st.lists(field, min_size=4, max_size=4).map(lambda values: _fields_line(";", values)),
    )


def _line_strategy(valid: st.SearchStrategy[bytes], separator: str, ratings: list[str]):
    return st.one_of(
        valid,
        _near_miss(separator, ratings),
        _text.map(lambda text: text.encode("utf-8")),
        _bytes,
    )


def _is_int(field: bytes, low: int = 0, high: int = INT64_MAX) -> bool:
    return re.fullmatch(rb"[0-9]+", field) is not None and low <= int(field) <= high


def _valid_100k(line: bytes) -> tuple[str, str, float, int] | None:
    """The row a valid ml-100k u.data line holds (known ids only), else None."""
    fields = line.split(b"\t")
    if len(fields) != 4:
        return None
    user, movie, rating, timestamp = fields
    if not (_is_int(user) and _is_int(movie) and _is_int(rating, 1, 5) and _is_int(timestamp)):
        return None
    if user.decode() not in USERS or movie.decode() not in MOVIES:
        return None
    return user.decode(), movie.decode(), float(rating), int(timestamp)


def _valid_csv(line: bytes) -> tuple[str, str, float, int] | None:
    fields = line.split(b",")
    if len(fields) != 4:
        return None
    user, movie, rating, timestamp = fields
    if not (_is_int(user) and _is_int(movie) and _is_int(timestamp)):
        return None
    if re.fullmatch(rb"[0-9]+(\.[0-9]*)?|\.[0-9]+", rating) is None:
        return None
    value = float(rating)
    if not (0.5 <= value <= 5.0 and (value * 2).is_integer()):
        return None
    return user.decode(), movie.decode(), value, int(timestamp)


def _check_raise_message(error: DataError, path_text: str, bad_lines: set[int]) -> None:
    message = str(error)
    assert path_text in message, message
    match = _LINE_NUMBER.search(message)
    assert match is not None, message
    assert int(match.group(1)) in bad_lines, (message, bad_lines)


def _valid_100k_line() -> st.SearchStrategy[bytes]:
    return st.tuples(
        st.sampled_from(USERS),
        st.sampled_from(MOVIES),
        st.integers(1, 5),
        st.integers(0, 2_000_000_000),
    ).map(lambda row: "\t".join(map(str, row)).encode())


@pytest.fixture
def ml100k_folder(tmp_path: Path) -> Path:
    """A tiny ml-100k: three users, movies 1, 2 and 5; u.data is written by each example."""
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    flags = "|".join(["0"] * 18 + ["1"])
    (folder / "u.item").write_bytes(
        "".join(
            f"{movie}|Movie {movie} (1995)|01-Jan-1995||http://x|{flags}\n" for movie in MOVIES
        ).encode("latin-1")
    )
    (folder / "u.user").write_text(
        "".join(f"{user}|30|F|writer|0211{user}\n" for user in USERS), encoding="latin-1"
    )
    return folder


@SETTINGS
@given(lines=st.lists(_line_strategy(_valid_100k_line(), "\t", ["1", "5", "0", "6", "3.0"])))
@example(lines=[BOM])  # a byte-order mark alone is no rating
@example(lines=[BOM, b"1\t1\t5\t0"])
def test_u_data_keeps_exactly_the_valid_rows(ml100k_folder: Path, lines: list[bytes]) -> None:
    data = b"".join(line + b"\n" for line in lines)
    (ml100k_folder / "u.data").write_bytes(data)
    rows = [_valid_100k(line) for line in lines]
    bad_lines = {number for number, row in enumerate(rows, start=1) if row is None}
    # A leading UTF-8 byte-order mark is not content: the reader drops it.
    if not data.removeprefix(BOM).strip():
        with pytest.raises(DataError, match="empty file"):
            load_movielens("movielens-100k", ml100k_folder, on_bad_rows="skip")
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = load_movielens("movielens-100k", ml100k_folder, on_bad_rows="skip")
    frame = result.ratings
    found = list(
        zip(
            frame["user_id"].tolist(),
            frame["movie_id"].tolist(),
            frame["user_rating"].astype(float).tolist(),
            frame["timestamp"].tolist(),
            strict=True,
        )
    )
    assert found == [row for row in rows if row is not None]
    assert result.report.num_rows_dropped == len(bad_lines)
    if bad_lines:
        with pytest.raises(DataError) as raised:
            load_movielens("movielens-100k", ml100k_folder, on_bad_rows="raise")
        _check_raise_message(raised.value, "u.data", bad_lines)
    else:
        assert len(load_movielens("movielens-100k", ml100k_folder).ratings) == len(lines)


def _valid_csv_line() -> st.SearchStrategy[bytes]:
    return st.tuples(
        _digits,
        _digits,
        st.sampled_from(["0.5", "1", "2.5", "4.0", "5.0", "3."]),
        st.integers(0, 2_000_000_000),
    ).map(lambda row: ",".join(map(str, row)).encode())


@SETTINGS
@given(
    lines=st.lists(
        _line_strategy(_valid_csv_line(), ",", ["0.5", "5.0", "0", "5.5", "0.3", "-1", "nan"])
    )
)
def test_csv_ratings_keep_exactly_the_valid_rows(lines: list[bytes]) -> None:
    data = LAYOUT_CSV.header.encode() + b"\n" + b"".join(line + b"\n" for line in lines)
    rows = [_valid_csv(line) for line in lines]
    bad_lines = {number for number, row in enumerate(rows, start=2) if row is None}
    if not data.split(b"\n", 1)[1].strip():
        with pytest.raises(DataError, match="empty file"):
            read_rating_file(data, "ratings.csv", LAYOUT_CSV, on_bad_rows="skip")
        return
    report = ReadReport()
    columns = read_rating_file(data, "ratings.csv", LAYOUT_CSV, on_bad_rows="skip", report=report)
    found = list(
        zip(
            columns.user_id.to_pylist(),
            columns.movie_id.to_pylist(),
            columns.rating.astype(float).tolist(),
            columns.timestamp.tolist(),
            strict=True,
        )
    )
    assert found == [row for row in rows if row is not None]
    assert report.num_rows_dropped == len(bad_lines)
    assert report.num_rows_read == len(lines)
    if bad_lines:
        with pytest.raises(DataError) as raised:
            read_rating_file(data, "ratings.csv", LAYOUT_CSV, on_bad_rows="raise")
        _check_raise_message(raised.value, "ratings.csv", bad_lines)


_BEHAVIORS = ("pv", "buy")


def _valid_event_line() -> st.SearchStrategy[bytes]:
    return st.tuples(
        _digits,
        _digits,
        st.sampled_from(_BEHAVIORS),
        st.integers(0, 2_000_000_000),
    ).map(lambda row: ",".join(map(str, row)).encode())


def _valid_event(line: bytes) -> tuple[str, str, str, int] | None:
    fields = line.split(b",")
    if len(fields) != 4:
        return None
    user, item, behavior, timestamp = fields
    if not (_is_int(user) and _is_int(item) and _is_int(timestamp)):
        return None
    if behavior.decode("utf-8", "replace") not in _BEHAVIORS:
        return None
    return user.decode(), item.decode(), behavior.decode(), int(timestamp)


@SETTINGS
@given(lines=st.lists(_line_strategy(_valid_event_line(), ",", [*_BEHAVIORS, "cart"])))
def test_event_table_keeps_exactly_the_valid_rows(tmp_path: Path, lines: list[bytes]) -> None:
    folder = tmp_path / "events"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    path = folder / "events.csv"
    path.write_bytes(b"user,item,action,time\n" + b"".join(line + b"\n" for line in lines))
    rows = [_valid_event(line) for line in lines]
    # pyarrow skips empty lines in event tables: neither kept nor counted as dropped.
    bad_lines = {
        number
        for number, (line, row) in enumerate(zip(lines, rows, strict=True), 2)
        if row is None and line
    }
    kwargs = {
        "column_map": {
            "user_id": "user",
            "item_id": "item",
            "behavior": "action",
            "timestamp": "time",
        },
        "behavior_map": {"pv": "click", "buy": "purchase"},
        "integer_ids": True,
    }
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            log = read_event_table(path, on_bad_rows="skip", **kwargs)
    except DataError as error:
        # Only a file with no valid row at all may fail under "skip".
        assert all(row is None for row in rows), str(error)
        assert str(path) in str(error)
        return
    events = log.events
    canonical = {"pv": "click", "buy": "purchase"}
    found = list(
        zip(
            events["user_id"].astype(str).tolist(),
            events["item_id"].astype(str).tolist(),
            events["behavior"].astype(str).tolist(),
            events["timestamp"].astype("int64").tolist(),
            strict=True,
        )
    )
    expected = [(user, item, canonical[b], t) for user, item, b, t in filter(None, rows)]
    assert found == expected
    assert log.report.num_rows_dropped == len(bad_lines)
    if bad_lines:
        with pytest.raises(DataError) as raised:
            read_event_table(path, on_bad_rows="raise", **kwargs)
        _check_raise_message(raised.value, str(path), bad_lines)
