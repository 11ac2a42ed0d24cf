"""`train_distributed` under `MultiWorkerMirroredStrategy`: two worker processes on localhost
(`TF_CONFIG`, ring all-reduce) train the toy model and end where one process training on the
same global batches ends.

Both runs: 256 MovieLens-shaped examples, global batch 32 (2 workers x 16 vs 1 x 32), 3
epochs (24 steps), SGD(0.1), the same seed and shuffling; two variants, in-batch retrieval
with fixed weights and full-catalogue retrieval with uncertainty weighting. The in-batch
negatives are all-gathered, so the two runs compute the same losses; only float summation
order differs.
Tolerance: every trainable variable within `atol=1e-5` and every epoch loss within
`rtol=1e-5` (measured: ~1e-7 on both).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.models import movielens_config
from tfrs_mtl.models.distributed_training import check_distributable, is_chief

JOB = Path(__file__).resolve().parent / "multi_worker_job.py"
TIMEOUT_SECONDS = 300
WEIGHT_TOLERANCE = 1e-5
LOSS_TOLERANCE = 1e-5


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("localhost", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _run_all(commands: list[tuple[list[str], dict[str, str]]]) -> None:
    """Runs the processes concurrently; kills every one still alive on any failure."""
    processes = []
    try:
        for command, env in commands:
            processes.append(
                subprocess.Popen(
                    command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
                )
            )
        for process in processes:
            output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
            assert process.returncode == 0, output[-4000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def _environment(tf_config: dict | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="", TF_USE_LEGACY_KERAS="1")
    if tf_config is not None:
        env["TF_CONFIG"] = json.dumps(tf_config)
    return env


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("multi_worker")
    workers = [f"localhost:{port}" for port in _free_ports(2)]
    base = [sys.executable, str(JOB), "--out", str(out), "--global-batch-size", "32"]
    commands = [
        (
            [*base, "--name", f"worker{index}", "--model-dir", str(out / "model")],
            _environment(
                {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
            ),
        )
        for index in range(2)
    ]
    commands.append(([*base, "--name", "reference"], _environment(None)))
    _run_all(commands)
    return out


def _summary(out: Path, name: str) -> dict:
    return json.loads((out / f"{name}.json").read_text())


def _weights(out: Path, name: str) -> list[np.ndarray]:
    with np.load(out / f"{name}.npz") as stored:
        return [stored[key] for key in sorted(stored.files)]


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["in_batch", "full_catalogue"])
def test_two_workers_match_one_process(runs: Path, variant: str) -> None:
    workers = [_summary(runs, f"worker{i}-{variant}") for i in range(2)]
    reference = _summary(runs, f"reference-{variant}")
    assert [w["num_replicas"] for w in workers] == [2, 2]
    assert reference["num_replicas"] == 1
    assert [w["is_chief"] for w in workers] == [True, False]
    assert workers[0]["steps_per_epoch"] == reference["steps_per_epoch"] == 256 // 32

    expected = _weights(runs, f"reference-{variant}")
    for name in ("worker0", "worker1"):
        weights = _weights(runs, f"{name}-{variant}")
        assert len(weights) == len(expected)
        worst = max(float(np.max(np.abs(a - b))) for a, b in zip(weights, expected, strict=True))
        assert worst <= WEIGHT_TOLERANCE, f"{name}: max |weight difference| {worst:.3g}"
    # Training moved the weights far beyond the tolerance, so the match is not vacuous.
    assert max(float(np.max(np.abs(w))) for w in expected) > 100 * WEIGHT_TOLERANCE

    history = workers[0]["history"]
    for key in ("loss", "retrieval/loss", "rating/loss", "genres/loss", "rating/rmse"):
        np.testing.assert_allclose(
            history[key], reference["history"][key], rtol=LOSS_TOLERANCE, err_msg=key
        )
    # Task weights are reported once, not summed over the replicas.
    np.testing.assert_allclose(
        history["genres/weight"], reference["history"]["genres/weight"], rtol=LOSS_TOLERANCE
    )
    if variant == "in_batch":
        assert history["genres/weight"] == [0.5, 0.5, 0.5]


@pytest.mark.slow
def test_only_the_chief_writes_the_model(runs: Path) -> None:
    assert (runs / "model" / "config.json").is_file()
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == ["model"]


def test_unsupported_weightings_raise_naming_the_setting() -> None:
    with pytest.raises(ValueError, match=r"weighting\.method='gradnorm'"):
        check_distributable(movielens_config(weighting="gradnorm"))
    with pytest.raises(ValueError, match=r"weighting\.method='dwa'"):
        check_distributable(movielens_config(weighting="dwa"))
    check_distributable(movielens_config(weighting="uncertainty"))


def test_the_default_strategy_is_its_own_chief() -> None:
    assert is_chief(tf.distribute.get_strategy())
