"""benchmarks/quality/variants.py: the benchmark's joint model is the library default."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

from quality.variants import VARIANTS, variant

from tfrs_mtl.experiments import ExperimentConfig


def test_joint_variant_is_the_library_default_model() -> None:
    joint, training = variant("joint")
    default = ExperimentConfig()
    assert joint.replace(seed=default.seed) == default.model_config()
    assert (training.epochs, training.batch_size) == (default.epochs, default.batch_size)
    assert training.ema_momentum == default.ema_momentum


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_every_variant_builds_a_valid_config(name: str) -> None:
    config, _ = variant(name)
    assert next(t.name for t in config.tasks) in ("retrieval", "rating", "genres")
