"""`tfrs-mtl data describe|validate` on real and broken data; `--help` on every command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", _commands(main), ids=" ".join)
def test_every_command_has_help(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_describe_json_counts_movielens_100k(ml100k_dir: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "data",
            "describe",
            "--dataset",
            "movielens-100k",
            "--data-dir",
            str(ml100k_dir),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert (described["num_ratings"], described["num_users"], described["num_items"]) == (
        100_000,
        943,
        1_682,
    )
    assert described["sparsity"] == pytest.approx(1 - 100_000 / (943 * 1_682))


def test_describe_events_uses_num_events(data_root: Path) -> None:
    result = CliRunner().invoke(
        main, ["data", "describe", "--dataset", "taobao-userbehavior", "--json"]
    )
    assert result.exit_code == 0, result.output
    described = json.loads(result.output)
    assert described["num_events"] == 4_321
    assert described["num_users"] == 43


def test_validate_good_data_exits_zero(ml100k_dir: Path) -> None:
    result = CliRunner().invoke(
        main, ["data", "validate", "--dataset", "movielens-100k", "--data-dir", str(ml100k_dir)]
    )
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_bad_rating_exits_one_naming_file_and_line(
    ml100k_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "ml-100k"
    broken.mkdir()
    for name in ("u.item", "u.user"):
        shutil.copy(ml100k_dir / name, broken / name)
    lines = (ml100k_dir / "u.data").read_text().splitlines()[:20]
    lines[6] = "196\t242\t9\t881250949"  # line 7: a rating outside 1..5
    (broken / "u.data").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(
        main, ["data", "validate", "--dataset", "movielens-100k", "--data-dir", str(broken)]
    )
    assert result.exit_code == 1
    assert "u.data" in result.output
    assert "line 7" in result.output
    assert "'9'" in result.output or " 9" in result.output


def test_validate_missing_folder_names_the_options(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["data", "validate", "--dataset", "movielens-1m", "--data-dir", str(tmp_path / "nope")],
    )
    assert result.exit_code == 1
    assert "nope" in result.output


@pytest.mark.parametrize("command", ["train", "quickstart"])
def test_help_states_the_size_bounds_the_library_applies(command: str) -> None:
    """The option help restates the catalogue bounds as numbers (the CLI does not import the
    experiments package to build its help); it must say the bounds the run applies."""
    from tfrs_mtl.experiments.experiment_config import (
        MAX_FULL_CATALOGUE_ITEMS,
        MAX_ITEM_ITEM_ITEMS,
    )

    result = CliRunner().invoke(main, [command, "--help"], terminal_width=400)
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert f"at most {MAX_ITEM_ITEM_ITEMS:,} items" in text
    if command == "train":
        assert f"full_catalogue up to {MAX_FULL_CATALOGUE_ITEMS:,} items" in text
