"""Input that used to be accepted without a word although it is wrong (a movie listed twice,
an age of 999, a garbage event column, a BOM glued to an id, an export from another version)
is refused or warned about; valid but unusual input (a quoted line break in a title, a BOM,
CR line ends) is read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from servable_fixtures import FakeServableModel, make_catalogue

from tfrs_mtl.cli.options import read_id_lines
from tfrs_mtl.data import DataError
from tfrs_mtl.data.errors import ReadReport
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.movielens_formats import (
    parse_1m_movies,
    parse_1m_users,
    parse_100k_movies,
    parse_100k_users,
    parse_csv_movies,
)
from tfrs_mtl.data.rating_file import LAYOUT_100K, LAYOUT_CSV, read_rating_file
from tfrs_mtl.data.retailrocket import load_retailrocket
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.manifest import ExportError, verify_export
from tfrs_mtl.serving.recommender import Recommender

ITEM = b"1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
OTHER = b"1|Other (1990)|01-Jan-1990||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"


@pytest.mark.parametrize(
    ("parse", "data", "column"),
    [
        (parse_100k_movies, ITEM + ITEM.replace(b"1|", b"2|", 1) + OTHER, "movie id"),
        (parse_1m_movies, b"1::A (1)::Drama\n2::B (2)::Drama\n1::C (3)::Comedy\n", "MovieID"),
        (parse_csv_movies, b"movieId,title,genres\n1,A,Drama\n2,B,Drama\n1,C,Comedy\n", "movieId"),
        (parse_100k_users, b"1|24|M|writer|1\n2|30|F|artist|2\n1|50|F|doctor|3\n", "user id"),
        (parse_1m_users, b"1::F::1::10::1\n2::M::56::16::2\n1::M::25::15::3\n", "UserID"),
    ],
)
def test_an_id_listed_twice_in_a_catalogue_is_refused(parse, data: bytes, column: str) -> None:
    with pytest.raises(DataError) as raised:
        parse(data, "catalogue", "raise", ReadReport())
    line = 4 if parse is parse_csv_movies else 3
    assert str(raised.value) == (
        f"catalogue, line {line}, column '{column}': duplicate {column}; found '1'; "
        f"expected each id on one line only (first on line {line - 2})"
    )
    report = ReadReport()
    table = parse(data, "catalogue", "skip", report)
    assert report.reasons == {f"duplicate {column}": 1}
    ids = table.movie_id if hasattr(table, "movie_id") else table.user_id
    assert ids == ["1", "2"]  # the first line of each id is kept


def test_an_impossible_age_is_refused() -> None:
    with pytest.raises(DataError, match=r"column 'age': bad age; found '999'"):
        parse_100k_users(b"1|999|M|writer|00000\n", "u.user", "raise", ReadReport())
    users = parse_100k_users(
        b"1|7|M|student|1\n2|73|F|retired|2\n", "u.user", "raise", ReadReport()
    )
    assert users.raw_user_age.tolist() == [7.0, 73.0]  # ml-100k's own range


def _retailrocket(folder: Path, extra: str = "") -> Path:
    folder.mkdir()
    rows = "".join(f"{user}\t{item}\t1\n" for user in range(1, 5) for item in range(1, 4))
    for name in ("view_ecommerce.dat", "add_to_cart_ecommerce.dat", "purchase_ecommerce.dat"):
        (folder / name).write_text("visitorid\titemid\tevent\n" + rows)
    with (folder / "view_ecommerce.dat").open("a") as file:
        file.write(extra)
    return folder


@pytest.mark.parametrize("event", ["view", "0", "-3", ""])
def test_retailrocket_processed_event_column_is_checked(tmp_path: Path, event: str) -> None:
    folder = _retailrocket(tmp_path / "rr", f"5\t7\t{event}\n")
    with pytest.raises(DataError) as raised:
        load_retailrocket(folder)
    assert "view_ecommerce.dat, line 14, column 'event': bad event count" in str(raised.value)
    with pytest.warns(UserWarning, match="dropped 1 \\(1 bad event count\\)"):
        log = load_retailrocket(folder, on_bad_rows="skip")
    assert len(log.events) == 36


def test_retailrocket_processed_event_counts_are_accepted(tmp_path: Path) -> None:
    folder = _retailrocket(tmp_path / "rr", "5\t7\t2\n")
    assert len(load_retailrocket(folder).events) == 37


def test_a_bom_in_a_user_ids_file_is_not_part_of_the_first_id(tmp_path: Path) -> None:
    path = tmp_path / "users.txt"
    path.write_bytes("\ufeff1\r\n# comment\n\n2\n".encode())
    assert read_id_lines(str(path), "--user-ids-file") == ["1", "2"]


def test_movies_csv_reads_a_bom_and_a_quoted_line_break() -> None:
    data = (
        "\ufeffmovieId,title,genres\n"
        '1,"Title, with a comma",Drama\n'
        '2,"A title\non two lines (2001)",Comedy|Drama\n'
        "3,Plain,Comedy\n"
    ).encode()
    movies = parse_csv_movies(data, "movies.csv", "raise", ReadReport())
    assert movies.movie_id == ["1", "2", "3"]
    assert movies.movie_title[1] == "A title\non two lines (2001)"
    with pytest.raises(DataError, match=r"line 5, column 'genres': unknown genre"):
        bad = data.replace(b"3,Plain,Comedy", b"3,Plain,Cyberpunk")
        parse_csv_movies(bad, "movies.csv", "raise", ReadReport())


def test_movies_csv_reads_cr_line_ends() -> None:
    data = b"movieId,title,genres\r1,A (1),Drama\r2,B (2),Comedy\r"
    movies = parse_csv_movies(data, "movies.csv", "raise", ReadReport())
    assert movies.movie_id == ["1", "2"] and movies.movie_title == ["A (1)", "B (2)"]


def test_rating_files_read_a_bom_and_cr_line_ends() -> None:
    rows = read_rating_file(b"\xef\xbb\xbf1\t2\t3\t4\n5\t6\t4\t8\n", "u.data", LAYOUT_100K)
    assert rows.user_id.to_pylist() == ["1", "5"]
    rows = read_rating_file(
        b"userId,movieId,rating,timestamp\r1,2,3.5,4\r5,6,4.0,8\r", "ratings.csv", LAYOUT_CSV
    )
    assert rows.rating.tolist() == [3.5, 4.0]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    recommender = Recommender(
        FakeServableModel(num_items=20),
        make_catalogue(20),
        IndexConfig(kind="brute_force"),
        progress=False,
    )
    return recommender.save(tmp_path_factory.mktemp("pristine") / "export")


def _export_with_version(pristine: Path, tmp_path: Path, version: str | None) -> Path:
    folder = Path(shutil.copytree(pristine, tmp_path / "export"))
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["versions"]["tfrs_mtl"] = version
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_an_export_of_another_minor_version_loads_with_a_warning(pristine, tmp_path) -> None:
    import tfrs_mtl

    folder = _export_with_version(pristine, tmp_path, "0.0.7")
    with pytest.warns(UserWarning, match=rf"tfrs_mtl '0.0.7' -> {tfrs_mtl.__version__}"):
        verify_export(folder)


@pytest.mark.parametrize("version", ["1.0.0", "nightly", None])
def test_an_export_of_another_major_version_is_refused(pristine, tmp_path, version) -> None:
    folder = _export_with_version(pristine, tmp_path, version)
    expected = "another major version" if version else "does not name the tfrs_mtl version"
    with pytest.raises(ExportError, match=expected):
        verify_export(folder)


def test_a_stray_quote_in_an_event_file_drops_its_line_only(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text('user_id,item_id,behavior\n1,2,click\n"\n1,3,click\n2,4,purchase\n')
    with pytest.raises(DataError, match=r"events.csv, line 3: a quote that does not close"):
        read_event_table(path)
    with pytest.warns(UserWarning, match=r"dropped 1 \(1 unclosed quote\)"):
        log = read_event_table(path, on_bad_rows="skip")
    assert log.events["item_id"].astype(str).tolist() == ["2", "3", "4"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--tasks", ",,"), "Error: --tasks ',,': no task names; expected a list such as"),
        (
            ("--dataset", "synthetic-ecommerce", "--data-dir", "shop"),
            "Error: data_dir='shop': synthetic-ecommerce is generated, not read from a folder",
        ),
    ],
)
def test_options_that_would_be_ignored_are_refused(tmp_path: Path, args, message: str) -> None:
    from click.testing import CliRunner

    from tfrs_mtl.cli import main

    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", *args, "--out", str(out), "--quiet"])
    assert result.exit_code == 1 and result.output.startswith(message), result.output
    assert not out.exists()
