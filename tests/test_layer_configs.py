"""Layer configs: defaults, round trip through dicts, errors naming field and value."""

from __future__ import annotations

import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.layers import ExpertsConfig, HeadConfig, InteractionConfig, TowerConfig


@pytest.mark.parametrize(
    "config",
    [
        TowerConfig(hidden_dims=(), output_dim=8, use_l2_norm=True, use_bias_dimension=True),
        ExpertsConfig(architecture="ple", num_levels=2, expert_hidden_dims=(16, 8)),
        InteractionConfig(use_cross=True, cross_projection_dim=4),
        HeadConfig(hidden_dims=(4,)),
    ],
)
def test_round_trip(config: TowerConfig) -> None:
    assert type(config).from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: TowerConfig(output_dim=0), "TowerConfig.output_dim=0 must be > 0"),
        (lambda: TowerConfig(hidden_dims=(8, 0)), r"hidden_dims=\[8, 0\]: every size"),
        (lambda: TowerConfig(dropout=1.0), r"TowerConfig.dropout=1.0 must be in \[0, 1\)"),
        (
            lambda: ExpertsConfig.from_dict({"architecture": "moe"}),
            "architecture: expected one of",
        ),
        (lambda: ExpertsConfig(expert_hidden_dims=()), "needs at least one layer size"),
        (
            lambda: ExpertsConfig(architecture="ple", num_shared_experts=0, num_levels=2),
            "num_shared_experts=0 with num_levels=2",
        ),
        (lambda: InteractionConfig(num_cross_layers=0), "num_cross_layers=0 must be >= 1"),
    ],
)
def test_errors_name_field_and_value(build: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build()  # type: ignore[operator]
