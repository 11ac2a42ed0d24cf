"""Hostile config files: each fails fast with one `ConfigError` / `Error:` line naming the file
and the problem; none exhausts memory, blocks, recurses or is read with a key silently lost.
Valid but unusual files (upper-case suffix, a BOM, anchors used a few times) are read. The
data's own bomb, a zip member inflating to gigabytes, is refused before it is read."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main
from tfrs_mtl.config import ConfigError
from tfrs_mtl.config.config_files import MAX_ALIASES, MAX_CONFIG_BYTES, read_config_file
from tfrs_mtl.experiments import ExperimentConfig


def _levels(count: int, width: int) -> str:
    """A "billion laughs": each anchor is a list of `width` aliases of the one before."""
    lines = ["a0: &a0 [lol]"]
    for level in range(1, count + 1):
        items = ", ".join([f"*a{level - 1}"] * width)
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("laughs.yaml", _levels(9, 9), f"more than {MAX_ALIASES} aliases"),
        # Under the alias budget, but 8 ** 5 values once expanded.
        ("laughs5.yaml", _levels(5, 8), "holds more than 10,000 values (aliases expanded)"),
        ("recursive.yaml", "tasks: &a [retrieval, *a]\n", "recursive alias"),
        ("deep.yaml", "tasks: " + "[" * 5000 + "]" * 5000 + "\n", "nested deeper than 20"),
        ("deep.json", '{"tasks": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested deeper than"),
        ("dup.yaml", "epochs: 1\nseed: 3\nepochs: 2\n", "line 3, column 1: duplicate key 'epochs'"),
        ("dup.json", '{"epochs": 1, "epochs": 2}', "duplicate key 'epochs'"),
        ("binary.yaml", bytes(range(256)), "not UTF-8 text (byte 0x80 at offset 128)"),
        ("keys.yaml", "1: 2\n", "keys must be field names (text) for ExperimentConfig; found 1"),
        ("nan.json", '{"learning_rate": NaN}', "learning_rate: expected a finite number, got nan"),
        ("inf.yaml", "item_item_weight: .inf\n", "item_item_weight: expected a finite number"),
        ("huge.yaml", "batch_size: 100000000000000000000\n", "expected an integer that fits in 64"),
        ("big.yaml", "#" * (MAX_CONFIG_BYTES + 1), "is 1,048,577 bytes; expected at most"),
        ("long.json", '{"ks": [' + ",".join(["10"] * 20_000) + "]}", "holds more than 10,000"),
    ],
)
def test_hostile_config_files_are_refused(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ConfigError, match=f"{re.escape(name)}: .*{re.escape(message)}") as raised:
        ExperimentConfig.load(path)
    assert len(str(raised.value)) < 300


@pytest.mark.parametrize("make", ["fifo", "folder", "loop", "device"])
def test_a_config_path_that_is_not_a_file_says_what_it_is(tmp_path: Path, make: str) -> None:
    path = tmp_path / "config.yaml"
    expected = {
        "fifo": "is a FIFO (named pipe); expected a regular file",
        "folder": "is a folder; expected a regular file",
        "loop": "is a symbolic link that loops",
        "device": "is a character device; expected a regular file",
    }[make]
    if make == "fifo":
        os.mkfifo(path)  # reading it would block until a writer comes
    elif make == "folder":
        path.mkdir()
    elif make == "loop":
        path.symlink_to(path)
    else:
        path = Path("/dev/zero")  # endless
    with pytest.raises(ConfigError, match=re.escape(f"cannot read config: {expected}")):
        ExperimentConfig.load(path)


def test_the_cli_reports_a_config_bomb_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "laughs.yaml"
    config.write_text(_levels(9, 9))
    out = tmp_path / "run"
    result = CliRunner().invoke(main, ["train", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert "laughs.yaml: not valid YAML: line" in result.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("upper.YAML", "epochs: 3\n"),
        ("upper.JSON", '{"epochs": 3}'),
        ("bom.yaml", "\ufeffepochs: 3\n"),
        ("exponent.yaml", "learning_rate: 1e-3\nepochs: 3\n"),  # a YAML 1.2 float
        ("anchors.yaml", "task_weights: {rating: &w 0.5, genres: *w}\nepochs: 3\n"),
    ],
)
def test_valid_but_unusual_config_files_are_read(tmp_path: Path, name: str, content: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    config = ExperimentConfig.load(path)
    assert config.epochs == 3


def test_a_merge_key_may_be_overridden_without_being_a_duplicate(tmp_path: Path) -> None:
    path = tmp_path / "merge.yaml"
    path.write_text("split:\n  <<: {method: random, seed: 7}\n  seed: 9\n")
    assert read_config_file(path) == {"split": {"method": "random", "seed": 9}}


def test_a_config_file_naming_only_an_ecommerce_dataset_is_accepted(tmp_path: Path) -> None:
    from tfrs_mtl.cli.experiment_options import build_config

    path = tmp_path / "shop.yaml"
    path.write_text("dataset: synthetic-ecommerce\n")
    config = build_config(str(path), *[None] * 16)
    assert config.dataset == "synthetic-ecommerce" and "tfrs_tutorial" not in config.baseline_names


def test_a_zip_member_too_large_once_inflated_is_refused_unread(
    tmp_path: Path, monkeypatch
) -> None:
    import zipfile

    from tfrs_mtl.data import DataError, dataset_files
    from tfrs_mtl.data.dataset_files import DatasetFiles

    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("ml-100k/u.data", "1\t2\t3\t4\n" * 10_000)  # 80,000 bytes
    monkeypatch.setattr(dataset_files, "MAX_MEMBER_BYTES", 50_000)  # not 2 GiB of zeros
    with pytest.raises(DataError, match=r"u.data: zip member of 80,000 bytes once uncompressed"):
        DatasetFiles(archive).read_bytes("u.data")
