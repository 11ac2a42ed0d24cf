"""Quiet by default: TensorFlow's and ScaNN's native notices stay off the terminal unless
TFRS_MTL_VERBOSE=1; what native code wrote before a failure is shown."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tfrs_mtl._native_logs import quiet_native_logs

BUILD = """
import numpy as np, tfrs_mtl
from tfrs_mtl.serving import IndexConfig, build_index
embeddings = np.zeros((1682, 16), np.float32)
embeddings[:, 0] = 1.0  # identical points: ScaNN's k-means warns about them
build_index(embeddings, IndexConfig(kind="scann"))
print("built")
"""


def _run(**env: str) -> subprocess.CompletedProcess:
    base = {
        k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TFRS_MTL_VERBOSE")
    }
    return subprocess.run(
        [sys.executable, "-c", BUILD], env={**base, **env}, capture_output=True, text=True
    )


@pytest.mark.slow
def test_building_an_index_prints_nothing_but_its_own_output() -> None:
    quiet = _run()
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stdout.strip() == "built"
    assert quiet.stderr == ""
    loud = _run(TFRS_MTL_VERBOSE="1")
    assert loud.returncode == 0
    assert "points are exactly the same" in loud.stderr


def _write_to_descriptor_2(text: str) -> None:
    os.write(2, text.encode())


def test_native_output_is_dropped_when_the_block_succeeds(capfd) -> None:
    with quiet_native_logs():
        _write_to_descriptor_2("native notice\n")
    assert "native notice" not in capfd.readouterr().err


def test_native_output_is_shown_when_the_block_fails(capfd) -> None:
    with pytest.raises(RuntimeError), quiet_native_logs():
        _write_to_descriptor_2("what went wrong\n")
        raise RuntimeError("failed")
    assert "what went wrong" in capfd.readouterr().err
