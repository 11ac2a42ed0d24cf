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
