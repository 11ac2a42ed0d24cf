"""The same seed and config give the same metrics; another seed gives other metrics.

Runs in a subprocess: `deterministic=True` turns on TensorFlow op determinism for the whole
process, which must not leak into the other tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """
import json, sys
import tfrs_mtl
from tfrs_mtl.experiments import ExperimentConfig, run_experiment

def metrics(seed):
    config = ExperimentConfig(dataset="movielens-100k", max_rows=3000, epochs=1, seed=seed,
                              baselines=(), validate_each_epoch=False)
    result = run_experiment(config, None, progress=False).metrics
    # Wall times (train_seconds, seconds/<phase>) are no model metric.
    return {k: v for k, v in result.items() if "seconds" not in k}

print(json.dumps([metrics(7), metrics(7), metrics(8)]))
"""


@pytest.mark.slow
def test_same_seed_same_metrics_other_seed_other_metrics(data_root: Path) -> None:
    env = {**os.environ, "TFRS_MTL_DATA_DIR": str(data_root), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, again, other = json.loads(result.stdout.strip().splitlines()[-1])
    assert "rating/rmse" in first and "retrieval/recall@10" in first
    assert first == again
    assert first["rating/rmse"] != other["rating/rmse"]
