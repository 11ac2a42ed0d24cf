"""`TaskConfig` / `WeightingConfig`: validation messages name the field; JSON round trips."""

from __future__ import annotations

import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.layers.configs import HeadConfig
from tfrs_mtl.tasks import TaskConfig, WeightingConfig


def test_round_trip_through_dict() -> None:
    task = TaskConfig(
        name="genres",
        kind="attribute",
        label_key="movie_genres",
        target="multi_label",
        num_classes=21,
        head=HeadConfig(hidden_dims=(16, 8)),
    )
    assert TaskConfig.from_dict(task.to_dict()) == task
    weighting = WeightingConfig(method="dwa", dwa_temperature=3.0)
    assert WeightingConfig.from_dict(weighting.to_dict()) == weighting


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "rating", "kind": "rating"}, "rating.label_key is required"),
        (
            {
                "name": "r",
                "kind": "retrieval",
                "use_full_catalogue": True,
                "use_logq_correction": True,
            },
            "use_logq_correction=True corrects in-batch",
        ),
        (
            {"name": "click", "kind": "binary", "label_key": "click", "use_user_bias": True},
            "click.use_user_bias=True only applies to kind='rating'",
        ),
        (
            {"name": "g", "kind": "attribute", "label_key": "movie_genres"},
            "g.num_classes=0 must be > 0 for target='multi_label'",
        ),
        ({"name": "a/b", "kind": "retrieval"}, "name='a/b'"),
    ],
)
def test_invalid_task_names_field_and_value(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TaskConfig(**kwargs)


def test_pcgrad_with_gradnorm_is_refused() -> None:
    with pytest.raises(ConfigError, match="use_pcgrad=True with method='gradnorm'"):
        WeightingConfig(method="gradnorm", use_pcgrad=True)


def test_is_ranking() -> None:
    assert TaskConfig(name="click", kind="binary", label_key="click").is_ranking
    assert not TaskConfig(name="retrieval", kind="retrieval").is_ranking
