"""I/O faults: a full disk or a read-only destination gives one `Error:` line naming the path,
never a traceback; an interrupted run is marked `INCOMPLETE`, refused by `evaluate`, `export`
and `recommend`, and resumed by rerunning the same `train`.

Faults are staged without root tricks: the failing write is monkeypatched to raise the
`OSError` (or TensorFlow error) a full disk or a read-only file system raises. A permission
test with `chmod` runs too when the tests do not run as root.
"""

from __future__ import annotations

import errno
import io
import os
import shutil
from pathlib import Path

import pytest
import tensorflow as tf
from click.testing import CliRunner

from tfrs_mtl.cli import main
from tfrs_mtl.experiments import experiment_run
from tfrs_mtl.experiments.run_outputs import INCOMPLETE_FILE


def invoke(*args: object) -> object:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def _one_error_line(result: object, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in errors[0], errors[0]


def _disk_full_at_export(*args: object, **kwargs: object) -> None:
    raise tf.errors.ResourceExhaustedError(
        None, None, "{{function_node SaveV2}} run/export/variables; No space left on device"
    )


def test_a_full_disk_while_exporting_marks_the_run_incomplete_until_rerun(
    tmp_path: Path, tiny_run_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "run"
    train = ("train", "--config", tiny_run_config, "--out", out, "--quiet")
    with monkeypatch.context() as patch:
        patch.setattr(experiment_run, "save_export", _disk_full_at_export)
        result = invoke(*train)
    _one_error_line(
        result,
        f"cannot write the run folder {out} (run/export/variables; No space left on device); "
        "it is marked incomplete",
        "rerun the same command to resume",
    )
    names = {path.name for path in out.iterdir()}
    assert {INCOMPLETE_FILE, ".backup", "model", "experiment.yaml"} <= names
    assert "metrics.json" not in names and "export" not in names and ".lock" not in names

    incomplete = f"{out} holds an incomplete run"
    _one_error_line(invoke("evaluate", "--model", out, "--quiet"), incomplete)
    _one_error_line(invoke("export", "--model", out, "--out", tmp_path / "x"), incomplete)
    _one_error_line(invoke("recommend", "--model", out, "--user-id", "u1"), incomplete)
    assert not (tmp_path / "x").exists()

    result = invoke(*train)  # the disk has room again: the same command resumes
    assert result.exit_code == 0, result.output
    assert "resuming after training (1 epochs done)" in result.output
    names = {path.name for path in out.iterdir()}
    assert {"metrics.json", "export"} <= names
    assert not {INCOMPLETE_FILE, ".backup", ".lock"} & names


def _train_that_fails(error: Exception, write: str | None = None):  # type: ignore[no-untyped-def]
    def train_and_evaluate(config, data, train, test, out, **kwargs):  # type: ignore[no-untyped-def]
        if write:
            (out / write).mkdir()
        raise error

    return train_and_evaluate


def test_an_overwritten_run_that_fails_is_incomplete_and_restarts_without_overwrite(
    tmp_path: Path, tiny_run: Path, tiny_run_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfrs_mtl.models.divergence import TrainingDivergedError

    out = Path(shutil.copytree(tiny_run, tmp_path / "run"))
    train = ("train", "--config", tiny_run_config, "--out", out, "--quiet")
    diverged = TrainingDivergedError(
        "training diverged: task 'click' loss became nan", "click", 1, 2, 2
    )
    monkeypatch.setattr(experiment_run, "train_and_evaluate", _train_that_fails(diverged, "model2"))
    _one_error_line(invoke(*train, "--overwrite"), "training diverged")
    names = {path.name for path in out.iterdir()}
    assert INCOMPLETE_FILE in names and "metrics.json" not in names  # the old one is gone
    assert ".backup" not in names  # nothing to resume after a divergence
    _one_error_line(invoke("evaluate", "--model", out), "holds an incomplete run")

    # Rerun without --overwrite: an incomplete run with nothing to resume starts over.
    monkeypatch.setattr(experiment_run, "train_and_evaluate", _train_that_fails(diverged))
    result = invoke(*train)
    assert "holds an incomplete run with nothing to resume: starting it over" in result.output


def test_a_run_failing_before_it_writes_leaves_no_folder(
    tmp_path: Path, tiny_run_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tfrs_mtl.config import ConfigError

    monkeypatch.setattr(
        experiment_run, "train_and_evaluate", _train_that_fails(ConfigError("refused"))
    )
    out = tmp_path / "run"
    _one_error_line(invoke("train", "--config", tiny_run_config, "--out", out), "refused")
    assert not out.exists()


@pytest.fixture
def read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder where creating or writing anything fails as on a read-only file system."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    (folder / "existing").mkdir()

    def refused(path: object) -> bool:
        return Path(os.fspath(path)).resolve().is_relative_to(folder.resolve())

    def fail(path: object) -> OSError:
        return OSError(errno.EROFS, "Read-only file system", os.fspath(path))

    real_open, real_mkdir, real_io_open = os.open, os.mkdir, io.open

    def os_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT) and refused(path):
            raise fail(path)
        return real_open(path, flags, *args, **kwargs)

    def mkdir(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if refused(path):
            raise fail(path)
        return real_mkdir(path, *args, **kwargs)

    def io_open(file, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if isinstance(file, str | os.PathLike) and set(mode) & set("wax+") and refused(file):
            raise fail(file)
        return real_io_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(os, "open", os_open)
    monkeypatch.setattr(os, "mkdir", mkdir)
    monkeypatch.setattr(io, "open", io_open)
    return folder


def test_read_only_destinations_give_one_error_line(read_only: Path, tiny_run: Path) -> None:
    output = read_only / "existing" / "r.csv"
    config = ("--dataset", "synthetic-ecommerce", "--max-rows", "300", "--quiet")
    _one_error_line(
        invoke("train", *config, "--out", read_only / "new"),
        f"cannot create the run folder {read_only / 'new'}: Read-only file system",
    )
    _one_error_line(
        invoke("train", *config, "--out", read_only / "existing"),
        f"cannot write in --out {read_only / 'existing'}: Read-only file system",
    )
    _one_error_line(
        invoke("cv", *config, "--folds", "2", "--out", read_only / "cv"),
        f"cannot create {read_only / 'cv'}: Read-only file system",
    )
    export = read_only / "existing" / "export"
    _one_error_line(
        invoke("export", "--model", tiny_run, "--out", export),
        f"cannot write in --out {export}: Read-only file system",
    )
    _one_error_line(
        invoke("recommend", "--model", tiny_run, "--user-id", "u1", "--output", output),
        f"--output {output}: cannot write it: Read-only file system",
    )
    assert sorted(path.name for path in read_only.iterdir()) == ["existing"]
    assert list((read_only / "existing").iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_folder_without_write_permission(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o555)
    try:
        result = invoke("train", "--dataset", "synthetic-ecommerce", "--out", folder / "run")
        _one_error_line(result, "cannot create the run folder", "Permission denied")
    finally:
        folder.chmod(0o755)


def _disk_full(*args: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_recommend_output_on_a_full_disk_leaves_the_old_file(
    tmp_path: Path, tiny_run: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.csv"
    target.write_text("the previous recommendations\n")
    args = ("recommend", "--model", tiny_run, "--user-id", "u1", "--output", target, "--overwrite")
    with monkeypatch.context() as patch:  # no room for the file: refused before writing
        patch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10, 10, 0))
        _one_error_line(invoke(*args), "No space left on device (", "bytes to write, 0 free)")
    with monkeypatch.context() as patch:  # the disk fills during the write
        patch.setattr(os, "fsync", _disk_full)
        _one_error_line(invoke(*args), "cannot write it: No space left on device")
    assert target.read_text() == "the previous recommendations\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["r.csv"]  # no temporary file
    assert invoke(*args).exit_code == 0
    assert target.read_text().startswith("user_id,")
