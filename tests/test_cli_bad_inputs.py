"""`tfrs-mtl train` on bad data and bad config files: exit code 1, one `Error:` line naming
the file, line, column or key, and nothing half-written in `--out`."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main

GOOD_ROWS = b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n"


@pytest.fixture
def ml100k_copy(tmp_path: Path, ml100k_dir: Path) -> Path:
    """The real u.item and u.user beside a u.data each test writes."""
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    for name in ("u.item", "u.user"):
        shutil.copy(ml100k_dir / name, folder / name)
    return folder


def _train(data_dir: Path, out: Path) -> object:
    args = ["train", "--dataset", "movielens-100k", "--data-dir", str(data_dir)]
    return CliRunner().invoke(main, [*args, "--epochs", "1", "--out", str(out), "--quiet"])


def _assert_clean_failure(result, message: str, out: Path) -> None:  # type: ignore[no-untyped-def]
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: "), result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    # The run folder may have been created, but holds nothing: a rerun needs no --overwrite.
    assert not out.exists() or not any(out.rglob("*")), sorted(out.rglob("*"))


@pytest.mark.parametrize(
    ("u_data", "message"),
    [
        (
            GOOD_ROWS + b"1\t2\t9\t3\n",
            "u.data, line 3, column 'rating': rating out of range; found 9; "
            "expected an integer from 1 to 5",
        ),
        (GOOD_ROWS + b"1\t2\tnan\t3\n", "u.data, line 3, column 'rating': bad rating"),
        (GOOD_ROWS + b"1,2,3,4\n", "u.data, line 3: wrong number of fields; found '1,2,3,4'"),
        (GOOD_ROWS + b"1\t99999\t3\t4\n", "line 3, column 'item id': movie not in catalogue"),
        (GOOD_ROWS + b"9999\t242\t3\t4\n", "line 3, column 'user id': user not in users file"),
        (b"", "u.data: empty file: no ratings"),
    ],
)
def test_train_on_bad_ratings_names_the_line_and_writes_nothing(
    ml100k_copy: Path, tmp_path: Path, u_data: bytes, message: str
) -> None:
    (ml100k_copy / "u.data").write_bytes(u_data)
    out = tmp_path / "run"
    _assert_clean_failure(_train(ml100k_copy, out), message, out)
    assert not out.exists()


def test_train_on_a_missing_ratings_file(ml100k_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    _assert_clean_failure(_train(ml100k_copy, out), "u.data: file not found", out)


def test_train_on_a_truncated_zip(ml100k_copy: Path, tmp_path: Path) -> None:
    (ml100k_copy / "u.data").write_bytes(GOOD_ROWS)
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in ml100k_copy.iterdir():
            zipped.write(path, f"ml-100k/{path.name}")
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    out = tmp_path / "run"
    _assert_clean_failure(_train(archive, out), "ml-100k.zip: not a readable zip archive", out)
    assert not out.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("epochs: -1\n", "epochs=-1 must be >= 1"),
        ("epochs: two\n", "epochs: expected an integer, got 'two' (str)"),
        ("learning_rate: 0\n", "learning_rate=0.0 must be > 0"),
        ("dataset: movielens-99k\n", "dataset='movielens-99k' is not one of"),
        ("- 1\n- 2\n", "ExperimentConfig: expected a mapping, got [1, 2] (list)"),
        ("{{{\n", "not valid YAML"),
    ],
)
def test_bad_config_files_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--config", str(config), "--out", str(out)])
    _assert_clean_failure(result, message, out)
    assert "bad.yaml" in result.output
    assert not out.exists()


def test_missing_config_file(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["train", "--config", str(tmp_path / "absent.yaml"), "--out", str(out)]
    )
    _assert_clean_failure(result, "absent.yaml: cannot read config", out)
    assert not out.exists()


def test_out_that_is_a_file_is_left_alone(ml100k_copy: Path, tmp_path: Path) -> None:
    (ml100k_copy / "u.data").write_bytes(GOOD_ROWS)
    out = tmp_path / "a_file"
    out.write_text("mine")
    result = _train(ml100k_copy, out)
    assert result.exit_code == 1
    assert "a_file is a file; --out must be a folder" in result.output
    assert out.read_text() == "mine"
