"""`tfrs-mtl train` killed with SIGKILL mid-epoch and started again with the same --out
resumes from its last backup (and its fitted served blend) and ends with exactly the
metrics and history of an
uninterrupted run (tolerance: 0, bit for bit; op determinism is on and the model has no
dropout); a finished --out is then refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tfrs_mtl.experiments.training_backup import saved_position

# 3,000 ratings -> 2,400 training rows, 38 steps of 64 an epoch; a backup every 5 steps.
_TRAIN = [
    "train",
    "--max-rows",
    "3000",
    "--epochs",
    "2",
    "--batch-size",
    "64",
    "--baselines",
    "none",
    "--backup-every",
    "5",
    "--quiet",
]
_STEPS_PER_EPOCH = 38


def _command(out: Path) -> list[str]:
    # The console script beside this interpreter (`tfrs_mtl.cli` has no `__main__`).
    return [str(Path(sys.executable).parent / "tfrs-mtl"), *_TRAIN, "--out", str(out)]


def _env(data_root: Path) -> dict[str, str]:
    return {**os.environ, "TFRS_MTL_DATA_DIR": str(data_root), "TF_CPP_MIN_LOG_LEVEL": "3"}


def _metrics(out: Path) -> dict[str, float]:
    metrics = json.loads((out / "metrics.json").read_text())
    # Wall times (train_seconds, seconds/<phase>) are no model metric.
    return {name: value for name, value in metrics.items() if "seconds" not in name}


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_metrics(data_root: Path, tmp_path: Path) -> None:
    env = _env(data_root)
    reference = tmp_path / "reference"
    done = subprocess.run(_command(reference), env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (reference / ".backup").exists()

    killed = tmp_path / "killed"
    process = subprocess.Popen(
        _command(killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        marker = killed / ".backup" / "chief" / "checkpoint"
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert process.poll() is None, "the run ended before its first backup"
            assert time.monotonic() < deadline, "no backup after 300 s"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    position = saved_position(killed / ".backup", _STEPS_PER_EPOCH)
    assert position is not None and 0 < position[1] < _STEPS_PER_EPOCH  # killed mid-epoch
    assert not (killed / "metrics.json").exists()
    # The served blend was fitted before the served model trained: the resume reads it.
    assert (killed / ".backup" / "served_blend.json").is_file()

    resumed = subprocess.run(_command(killed), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    epoch, step = position
    assert f"resuming from checkpoint at epoch {epoch + 1} step {step}" in resumed.stderr
    assert _metrics(killed) == _metrics(reference)
    assert json.loads((killed / "history.json").read_text()) == json.loads(
        (reference / "history.json").read_text()
    )
    assert not (killed / ".backup").exists()

    again = subprocess.run(_command(killed), env=env, capture_output=True, text=True)
    assert again.returncode == 1
    errors = [line for line in again.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--overwrite" in errors[0]
