"""Shared fixtures. Real data comes from $TFRS_MTL_DATA_DIR (CI sets it to ../shared/data)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _data_root() -> Path | None:
    value = os.environ.get("TFRS_MTL_DATA_DIR")
    return Path(value) if value else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The folder holding real datasets under their official names (ml-100k, ...).

    Skips locally when unset; in CI (CI=true) a missing folder is a failure, so real-data tests
    can never be skipped silently there.
    """
    root = _data_root()
    if root is None or not (root / "ml-100k").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs real data: TFRS_MTL_DATA_DIR={root} has no ml-100k/")
        pytest.skip("TFRS_MTL_DATA_DIR is not set to a folder with ml-100k/")
    return root


@pytest.fixture(scope="session")
def ml100k_dir(data_root: Path) -> Path:
    return data_root / "ml-100k"


TINY_RUN_CONFIG = """\
dataset: synthetic-ecommerce
synthetic_num_users: 80
synthetic_num_items: 40
synthetic_num_events: 2000
epochs: 1
baselines: []
index: {kind: brute_force}
validate_each_epoch: false
"""


@pytest.fixture(scope="session")
def tiny_run_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config of `tiny_run`: a synthetic shop of 80 users and 40 items, 1 epoch, the
    exact index, no baselines."""
    path = tmp_path_factory.mktemp("tiny-config") / "tiny.yaml"
    path.write_text(TINY_RUN_CONFIG)
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory, tiny_run_config: Path) -> Path:
    """One finished run folder of `tiny_run_config` (about 7 s), for tests of the commands
    that read runs. Copy it before changing it."""
    from click.testing import CliRunner

    from tfrs_mtl.cli import main

    out = tmp_path_factory.mktemp("tiny-run") / "run"
    arguments = ["train", "--config", str(tiny_run_config), "--out", str(out), "--quiet"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 0, result.output
    return out
