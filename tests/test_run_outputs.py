"""Run-folder writes: atomic files and folders, metrics.json moved last, out-dir checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl.experiments import run_outputs


def test_failed_folder_write_leaves_the_old_folder_and_no_staging(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "weights").write_text("old")

    def broken(folder: Path) -> None:
        folder.mkdir()
        (folder / "weights").write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        run_outputs.write_folder_atomically(target, broken)
    assert (target / "weights").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_folder_write_replaces_the_old_folder(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale").write_text("old")

    def write(folder: Path) -> None:
        folder.mkdir()
        (folder / "weights").write_text("new")

    run_outputs.write_folder_atomically(target, write)
    assert sorted(p.name for p in target.iterdir()) == ["weights"]


def test_metrics_moved_last_and_staging_removed(tmp_path: Path) -> None:
    staging, out = tmp_path / ".staging", tmp_path / "out"
    staging.mkdir()
    out.mkdir()
    for name in ("metrics.json", "report.md", "a.png"):
        (staging / name).write_text(name)
    moved: list[str] = []
    original = Path.replace

    def spy(self: Path, target: Path) -> Path:
        moved.append(self.name)
        return original(self, target)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "replace", spy)
        run_outputs.move_files_into(staging, out)
    assert moved[-1] == "metrics.json"
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "metrics.json", "report.md"]
    assert not staging.exists()


def test_prepare_out_dir_refuses_files_and_non_empty_folders(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(FileExistsError, match="is a file"):
        run_outputs.prepare_out_dir(file, overwrite=True)
    with pytest.raises(FileExistsError, match="--overwrite"):
        run_outputs.prepare_out_dir(tmp_path, overwrite=False)
    assert run_outputs.prepare_out_dir(tmp_path, overwrite=True) == tmp_path
    assert run_outputs.prepare_out_dir(tmp_path / "new", overwrite=False).is_dir()


def test_history_content_numbers_epochs() -> None:
    content = run_outputs.history_content({"rating/loss": [2.0, 1.5], "rating/weight": [1, 1]})
    assert content == {"epoch": [1, 2], "rating/loss": [2.0, 1.5], "rating/weight": [1.0, 1.0]}


def test_failed_report_leaves_no_metrics_json(tmp_path: Path) -> None:
    import numpy as np

    from tfrs_mtl.experiments import run_report
    from tfrs_mtl.experiments.experiment_baselines import BaselineEvaluation

    def broken_report(folder: Path, *args: object, **kwargs: object) -> None:
        Path(folder).mkdir()
        (Path(folder) / "metrics.json").write_text('{"half": ')
        raise OSError("disk full")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(run_report, "write_report", broken_report)
        with pytest.raises(OSError, match="disk full"):
            run_report.write_run_report(
                tmp_path,
                {"rating": {"rmse": 0.9}},
                BaselineEvaluation({}, {}, {}),
                np.zeros(0),
                history=None,
                train_seconds=None,
                title="t",
            )
    assert list(tmp_path.iterdir()) == []
