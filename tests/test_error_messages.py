"""Error messages stay readable: a bad value is cut to a bounded length, every message is one
line, and a path that is not what it should be is named for what it is (a folder, a link
loop, a FIFO), never as "file not found"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import tfrs_mtl.data.registry
from tfrs_mtl._messages import VALUE_CHARS, one_line, shorten
from tfrs_mtl.cli import main
from tfrs_mtl.data import DataError, DataNotFoundError
from tfrs_mtl.data.dataset_files import DatasetFiles
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.events import find_dataset_dir
from tfrs_mtl.data.rating_file import LAYOUT_100K, LAYOUT_CSV, read_rating_file

GOOD_100K = b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n"


def test_shorten_keeps_the_start_and_says_how_long() -> None:
    assert shorten("abc") == "abc"
    assert shorten("x" * 1_000, 5) == "xxxxx... (1,000 characters)"
    assert one_line("a\nb\r\n  c") == "a; b; c"


def test_a_garbage_line_of_megabytes_is_quoted_in_a_few_hundred_characters() -> None:
    data = GOOD_100K + b"Z" * 3_000_000 + b"\n"
    with pytest.raises(DataError) as raised:
        read_rating_file(data, "u.data", LAYOUT_100K)
    message = str(raised.value)
    assert message.startswith("u.data, line 3: wrong number of fields; found 'ZZZ")
    assert "... (3,000,002 characters)" in message and len(message) < VALUE_CHARS + 150


def test_a_header_with_cr_line_ends_is_read_as_its_first_line_only() -> None:
    # CR-only line ends (old Mac) are valid; a wrong header is quoted by its line only.
    data = b"user,movie,rating,ts\r" + b"1,1,4.0,9\r" * 300_000
    with pytest.raises(DataError) as raised:
        read_rating_file(data, "ratings.csv", LAYOUT_CSV)
    assert str(raised.value) == (
        "ratings.csv, line 1: unexpected header; found 'user,movie,rating,ts'; "
        "expected 'userId,movieId,rating,timestamp'"
    )


def test_an_event_line_longer_than_a_parser_block_is_named(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(b"user_id,item_id,behavior\n1,2,click\n" + b"Q" * 3_000_000 + b"\n")
    with pytest.raises(DataError, match=r"line 3: 1 fields instead of 3; found 'QQQ") as raised:
        read_event_table(path)
    assert len(str(raised.value)) < 400


def test_an_event_header_without_a_line_end_is_refused_briefly(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_bytes(b"user_id," * 200_000)
    with pytest.raises(DataError, match="line 1: the header line is longer than 65,536 bytes"):
        read_event_table(path)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (lambda path: path.mkdir(), "is a folder; expected a regular file"),
        (lambda path: path.symlink_to(path), "is a symbolic link that loops"),
        (lambda path: path.symlink_to(path.parent / "gone"), "is a broken symbolic link (to "),
        (lambda path: os.mkfifo(path), "is a FIFO (named pipe); expected a regular file"),
    ],
)
def test_a_dataset_file_that_is_not_a_file_is_named_for_what_it_is(
    dataset: Path, make, problem: str
) -> None:
    make(dataset / "u.data")
    with pytest.raises(DataError) as raised:
        DatasetFiles(dataset).read_bytes("u.data")
    assert f"ml-100k/u.data: {problem}" in str(raised.value)
    assert "not found" not in str(raised.value)


def test_a_missing_dataset_file_is_still_not_found(dataset: Path) -> None:
    with pytest.raises(DataError, match=r"u.data: file not found; expected 'u.data' in"):
        DatasetFiles(dataset).read_bytes("u.data")


def test_data_folders_and_event_files_say_what_the_path_is(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    expected = r"data_dir='.*loop' is not a folder \(is a symbolic link that loops"
    with pytest.raises(DataNotFoundError, match=expected):
        find_dataset_dir("retailrocket", loop, expected="events.csv", download_hint="")
    result = CliRunner().invoke(main, ["data", "validate", "--data-dir", str(loop)])
    assert result.exit_code == 1
    assert "data_dir=" in result.output and "is a symbolic link that loops" in result.output
    folder = tmp_path / "events.csv"
    folder.mkdir()
    with pytest.raises(DataError, match=r"events.csv: is a folder; expected a regular file"):
        read_event_table(folder)


def test_an_overlong_config_value_is_cut_in_the_cli_error(tmp_path: Path) -> None:
    config = tmp_path / "long.yaml"
    config.write_text(f"dataset: {'A' * 500_000}\n")
    result = CliRunner().invoke(main, ["train", "--config", str(config), "--out", "run"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "dataset: expected one of" in result.output or "dataset=" in result.output
    assert len(result.output) < 2_100


def test_an_unexpected_failure_is_one_error_line_without_a_traceback(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise KeyError("timestamp")

    monkeypatch.setattr(tfrs_mtl.data.registry, "validate_dataset", broken)
    result = CliRunner().invoke(main, ["data", "validate", "--dataset", "movielens-100k"])
    assert result.exit_code == 1
    assert result.output == (
        "Error: unexpected KeyError: 'timestamp' (set TFRS_MTL_TRACEBACK=1 to see where; "
        "please report it)\n"
    )
    monkeypatch.setenv("TFRS_MTL_TRACEBACK", "1")
    assert isinstance(
        CliRunner().invoke(main, ["data", "validate"]).exception, KeyError
    )  # the traceback, for a bug report


def test_an_os_error_names_its_path(monkeypatch) -> None:
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "/data/out/model")

    monkeypatch.setattr(tfrs_mtl.data.registry, "validate_dataset", full)
    result = CliRunner().invoke(main, ["data", "validate"])
    assert result.exit_code == 1
    assert result.output == "Error: /data/out/model: No space left on device\n"


def test_warnings_are_one_line(tmp_path: Path, ml100k_dir: Path) -> None:
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    for name in ("u.item", "u.user"):
        (folder / name).write_bytes((ml100k_dir / name).read_bytes())
    (folder / "u.data").write_bytes(GOOD_100K + b"1\t1\t3\t12345678901234567890\n")
    # A real process: pytest records warnings in its own tests instead of printing them.
    command = [sys.executable, "-c", "from tfrs_mtl.cli import main; main()"]
    arguments = ["data", "describe", "--data-dir", str(folder), "--skip-bad-rows", "--json"]
    result = subprocess.run([*command, *arguments], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    # u.item and u.user count too (2,625 lines): one line, without Python's source line.
    assert result.stderr.splitlines() == [
        f"Warning: {folder}: read 2,628 rows, dropped 1 (1 timestamp out of range)"
    ]


def test_an_unknown_user_is_named_in_a_bounded_line(tiny_run: Path) -> None:
    user = "x" * 10_000
    result = CliRunner().invoke(main, ["recommend", "--model", str(tiny_run), "--user-id", user])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.output.splitlines() if "is unknown" in line]
    assert notes == [
        f"user '{'x' * 199}... (10,002 characters) is unknown: recommending through the OOV path"
    ]


def test_a_path_holding_a_nul_character_is_one_error_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--config", "a\0b.yaml", "--out", "run"])
    assert result.exit_code == 1
    assert result.output == "Error: a path given holds a NUL character, which no path can hold\n"


def test_an_error_tfrs_mtl_raises_on_purpose_is_not_called_unexpected(monkeypatch) -> None:
    from tfrs_mtl.config import ConfigError

    def refused(*args, **kwargs):
        raise ConfigError("index: num_leaves=0 must be >= 1")

    monkeypatch.setattr(tfrs_mtl.data.registry, "load_dataset", refused)
    result = CliRunner().invoke(main, ["data", "describe"])
    assert result.exit_code == 1
    assert result.output == "Error: index: num_leaves=0 must be >= 1\n"


@pytest.mark.parametrize(
    ("damage", "command", "message"),
    [
        (
            lambda run: (run / "export" / "manifest.json").write_text("[" * 5000 + "]" * 5000),
            "export",
            "export/manifest.json: not a config: nested deeper than 20 levels",
        ),
        (
            lambda run: (run / "export" / "manifest.json").write_text('{"format": 1}'),
            "export",
            "export/manifest.json: no 'index_config' mapping; the export is damaged",
        ),
        (
            lambda run: (run / "export" / "serving_data.npz").write_bytes(b"garbage"),
            "recommend",
            "export/serving_data.npz: not a readable serving-data file written by tfrs_mtl",
        ),
    ],
)
def test_damaged_run_files_are_named_in_one_line(
    tiny_run: Path, tmp_path: Path, damage, command: str, message: str
) -> None:
    import shutil

    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    damage(run)
    args = ["--out", str(tmp_path / "x")] if command == "export" else ["--user-id", "u1"]
    result = CliRunner().invoke(main, [command, "--model", str(run), *args])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message in errors[0] and "unexpected" not in errors[0]
