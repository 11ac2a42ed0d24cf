"""The output-path rule (`tfrs_mtl._atomic_files`): names derived from input are single path
components, nothing is written through a symbolic link inside an output folder, and the CLI
refuses such outputs with one Error line before doing any work."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from tfrs_mtl._atomic_files import (
    UnsafeOutputPathError,
    refuse_links_inside,
    safe_component,
    staged_folder,
)
from tfrs_mtl.cli import main
from tfrs_mtl.config import ConfigError
from tfrs_mtl.data.split_config import SplitConfig


@pytest.mark.parametrize("name", ["u1", "kfold-2-of-5", "user 42", "Ünïcode", "a..b"])
def test_plain_names_are_safe_components(name: str) -> None:
    assert safe_component(name, "split name") == name


@pytest.mark.parametrize("name", ["", ".", "..", "../etc", "a/b", "a\\b", "/abs", "nul\0"])
def test_names_that_could_leave_the_folder_are_refused(name: str) -> None:
    with pytest.raises(UnsafeOutputPathError, match=r"split name .* one path component"):
        safe_component(name, "split name")


@pytest.fixture()
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_text("keep me")
    return folder


def _untouched(outside: Path) -> bool:
    return sorted(p.name for p in outside.iterdir()) == ["precious.txt"]


def test_a_link_anywhere_inside_an_output_folder_is_refused(tmp_path, outside) -> None:
    out = tmp_path / "run"
    (out / "model").mkdir(parents=True)
    (out / "model" / "weights").symlink_to(outside)
    with pytest.raises(UnsafeOutputPathError, match=r"model/weights is a symbolic link"):
        refuse_links_inside(out)
    refuse_links_inside(tmp_path / "missing")  # nothing there yet: nothing to refuse


def test_the_output_folder_itself_may_be_a_link(tmp_path, outside) -> None:
    link = tmp_path / "latest"
    link.symlink_to(outside)
    refuse_links_inside(link)


def test_staged_folder_never_replaces_or_writes_through_a_link(tmp_path, outside) -> None:
    target = tmp_path / "export"
    target.symlink_to(outside)
    with (
        pytest.raises(UnsafeOutputPathError, match="export is a symbolic link"),
        staged_folder(target) as staging,
    ):
        (staging / "saved_model.pb").write_text("x")
    assert target.is_symlink() and _untouched(outside)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".export")] == []


def test_train_refuses_an_out_folder_holding_a_link(tmp_path, outside) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "tensorboard").symlink_to(outside)
    result = CliRunner().invoke(main, ["train", "--out", str(out), "--overwrite", "--quiet"])
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "tensorboard is a symbolic link" in errors[0]
    assert _untouched(outside) and [p.name for p in out.iterdir()] == ["tensorboard"]


def test_cv_and_evaluate_refuse_links_where_they_write(tmp_path, outside) -> None:
    out = tmp_path / "cv"
    out.mkdir()
    (out / "cv.json").symlink_to(outside / "precious.txt")
    result = CliRunner().invoke(main, ["cv", "--out", str(out), "--quiet"])
    assert result.exit_code == 1 and "cv.json is a symbolic link" in result.output
    run = tmp_path / "run"
    run.mkdir()
    (run / "evaluations").mkdir()
    (run / "evaluations" / "u1").symlink_to(outside)
    result = CliRunner().invoke(main, ["evaluate", "--model", str(run), "--quiet"])
    assert result.exit_code == 1 and "evaluations/u1 is a symbolic link" in result.output
    assert _untouched(outside)


def test_a_relative_out_may_not_climb_out_of_the_working_folder(tmp_path, monkeypatch) -> None:
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    result = CliRunner().invoke(main, ["train", "--out", "../escaped", "--quiet"])
    assert result.exit_code == 1 and "escapes the working folder" in result.output
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("fold", ["../../escape", "u1/..", ""])
def test_split_names_that_name_evaluation_folders_are_validated(fold: str) -> None:
    # `tfrs-mtl evaluate` writes RUN/evaluations/<split name>; a tampered experiment.yaml
    # cannot make that name climb out.
    with pytest.raises(ConfigError, match="canonical_fold"):
        SplitConfig.from_dict({"method": "canonical", "canonical_fold": fold})
