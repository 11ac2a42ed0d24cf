"""Unsafe outputs: `--output` never replaces a file without `--overwrite`, never writes into
a folder, a FIFO or through a link, and is written whole; `export --out` replaces only an
export; `quickstart --out` only a run; a folder swap never loses the old folder. Link checks
look at the path written, not at the tree around it."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfrs_mtl._atomic_files import staged_folder, write_bytes_atomically
from tfrs_mtl.cli import main


def invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def _recommend(run: Path, output: Path, *extra: str) -> object:
    return invoke("recommend", "--model", run, "--user-id", "u1", "--output", output, *extra)


def _error(result: object) -> str:
    assert result.exit_code != 0, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def test_an_existing_output_file_is_replaced_only_with_overwrite(
    tiny_run: Path, tmp_path: Path
) -> None:
    target = tmp_path / "r.csv"
    target.write_text("mine\n")
    assert _error(_recommend(tiny_run, target)) == (
        f"Error: --output {target} exists; pass --overwrite to replace it"
    )
    assert target.read_text() == "mine\n"
    assert _recommend(tiny_run, target, "--overwrite").exit_code == 0
    lines = target.read_text().splitlines()
    assert lines[0].startswith("user_id,") and len(lines) == 11


@pytest.mark.parametrize("kind", ["folder", "fifo", "file-as-parent"])
def test_an_output_that_cannot_be_a_file_is_refused(
    tiny_run: Path, tmp_path: Path, kind: str
) -> None:
    if kind == "folder":
        target = tmp_path / "r.csv"
        target.mkdir()
        expected = f"--output {target} is a folder; expected a file name to write"
    elif kind == "fifo":
        target = tmp_path / "r.csv"
        os.mkfifo(target)
        expected = f"--output {target} is a FIFO (named pipe); expected a file name to write"
    else:
        (tmp_path / "notes").write_text("mine")
        target = tmp_path / "notes" / "r.csv"
        expected = f"--output {target}: {tmp_path / 'notes'} is a regular file, not a folder"
    assert _error(_recommend(tiny_run, target, "--overwrite")) == f"Error: {expected}"


def test_output_suffixes_match_in_any_case(tiny_run: Path, tmp_path: Path) -> None:
    assert _recommend(tiny_run, tmp_path / "R.CSV").exit_code == 0
    assert _recommend(tiny_run, tmp_path / "R.JSONL").exit_code == 0
    assert (tmp_path / "R.JSONL").read_text().startswith('{"user_id"')


def test_links_elsewhere_in_the_output_folder_do_not_matter(tiny_run: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    (folder / "old").mkdir(parents=True)
    (folder / "old" / "loop").symlink_to(folder / "old" / "loop")  # not where we write
    (folder / "latest").symlink_to(tmp_path)
    assert _recommend(tiny_run, folder / "r.csv").exit_code == 0
    link = folder / "r2.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    assert "is a symbolic link" in _error(_recommend(tiny_run, link, "--overwrite"))
    assert not (tmp_path / "elsewhere.csv").exists()


def test_export_never_replaces_a_file_or_a_folder_that_is_not_an_export(
    tiny_run: Path, tmp_path: Path
) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("mine")
    error = _error(invoke("export", "--model", tiny_run, "--out", file, "--overwrite"))
    assert error == f"Error: --out {file} is a regular file; expected an export folder"
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "thesis.tex").write_text("mine")
    error = _error(invoke("export", "--model", tiny_run, "--out", folder, "--overwrite"))
    assert "holds files that are not a tfrs_mtl export (no manifest.json)" in error
    assert file.read_text() == "mine" and (folder / "thesis.tex").read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["documents", "notes.txt"]


def test_export_replaces_an_export_whole_with_its_serving_data(
    tiny_run: Path, tmp_path: Path
) -> None:
    out = tmp_path / "export"
    assert invoke("export", "--model", tiny_run, "--out", out).exit_code == 0
    assert (out / "manifest.json").is_file() and (out / "serving_data.npz").is_file()
    assert "exists; pass --overwrite" in _error(invoke("export", "--model", tiny_run, "--out", out))
    result = invoke("export", "--model", tiny_run, "--out", out, "--overwrite")
    assert result.exit_code == 0, result.output
    assert (out / "serving_data.npz").is_file()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]  # no staging, no lock


def test_quickstart_replaces_only_a_run_folder(tmp_path: Path) -> None:
    folder = tmp_path / "documents"
    folder.mkdir()
    (folder / "report.md").write_text("mine")
    error = _error(invoke("quickstart", "--out", folder, "--quiet"))
    assert error == f"Error: --out {folder} holds files that are not a tfrs_mtl run; choose " + (
        "another folder"
    )
    assert (folder / "report.md").read_text() == "mine"


def test_a_staged_folder_never_moves_a_file_aside(tmp_path: Path) -> None:
    target = tmp_path / "export"
    target.write_text("mine")
    with (
        pytest.raises(FileExistsError, match="exists and is not a folder"),
        staged_folder(target) as staging,
    ):
        staging.mkdir()
    assert target.read_text() == "mine"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]


def test_a_failed_swap_puts_the_old_folder_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "saved_model.pb").write_text("old")
    real_rename = Path.rename

    def rename(self: Path, destination: Path) -> Path:
        if ".partial-" in self.name:
            raise OSError(28, "No space left on device", str(self))
        return real_rename(self, destination)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="No space"), staged_folder(target) as staging:
        staging.mkdir()
        (staging / "saved_model.pb").write_text("new")
    assert (target / "saved_model.pb").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["export"]


def test_an_atomic_write_replaces_a_link_without_following_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    link = tmp_path / "out.txt"
    link.symlink_to(outside)
    write_bytes_atomically(link, b"new")
    assert not link.is_symlink() and link.read_bytes() == b"new"
    assert outside.read_text() == "keep me"


def test_an_export_from_an_incomplete_run_folder_is_refused(tiny_run: Path, tmp_path: Path) -> None:
    run = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    (run / "metrics.json").unlink()  # killed before its last write
    for command in (
        ("export", "--model", run, "--out", tmp_path / "x"),
        ("recommend", "--model", run / "export", "--user-id", "u1"),
    ):
        assert f"{run} holds an incomplete run" in _error(invoke(*command))
