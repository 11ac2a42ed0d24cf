"""`DatasetFiles`: a dataset's files from a folder or a zip; broken archives are `DataError`s."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from tfrs_mtl.data.dataset_files import DatasetFiles
from tfrs_mtl.data.errors import DataError

RATINGS = b"1\t1\t3\t881250949\n" * 200


def _zip(path: Path, top: str = "ml-100k/") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(f"{top}u.data", RATINGS)
    return path


@pytest.mark.parametrize("top", ["ml-100k/", ""])
def test_reads_members_under_a_top_folder_or_at_the_root(tmp_path: Path, top: str) -> None:
    with DatasetFiles(_zip(tmp_path / "ml-100k.zip", top)) as files:
        assert files.read_bytes("u.data") == RATINGS
        assert files.display("u.data") == f"{tmp_path / 'ml-100k.zip'}!{top}u.data"
        assert not files.exists("u.item")


def test_missing_member(tmp_path: Path) -> None:
    with (
        DatasetFiles(_zip(tmp_path / "ml-100k.zip")) as files,
        pytest.raises(DataError, match=r"ml-100k\.zip!u\.item: file not found"),
    ):
        files.read_bytes("u.item")


def test_truncated_zip(tmp_path: Path) -> None:
    path = _zip(tmp_path / "ml-100k.zip")
    path.write_bytes(path.read_bytes()[:40])
    with pytest.raises(DataError, match=r"ml-100k\.zip: not a readable zip archive") as caught:
        DatasetFiles(path)
    assert "complete zip" in str(caught.value)


def test_corrupt_member(tmp_path: Path) -> None:
    path = _zip(tmp_path / "ml-100k.zip")
    data = bytearray(path.read_bytes())
    data[40:44] = b"\x00\xff\x00\xff"  # inside the compressed u.data stream
    path.write_bytes(bytes(data))
    with (
        DatasetFiles(path) as files,
        pytest.raises(DataError, match=r"u\.data: corrupt or truncated zip member"),
    ):
        files.read_bytes("u.data")


def test_folder(tmp_path: Path) -> None:
    (tmp_path / "u.data").write_bytes(RATINGS)
    files = DatasetFiles(tmp_path)
    assert files.read_bytes("u.data") == RATINGS
    assert files.display("u.data") == str(tmp_path / "u.data")
