"""Named experiment presets: an experiment config is a preset plus the user's overrides.

`default` is the recommended model (`ExperimentConfig`'s own defaults: the dataset's recipe
and the data's shape decide the rest). `tfrs-tutorial` is the TFRS multitask tutorial's
recipe on this library's model: retrieval and rating only, 32-d embeddings of the ids alone,
an in-batch softmax over plain dot products, Adagrad at 0.1 for 3 epochs in batches of 8,192,
nothing fitted to serve (stage 1's order). It is the reference the defaults are measured
against, and a quick run; it needs rating data (MovieLens).

A config file names one with `preset: tfrs-tutorial`; the command line with `--preset`; in
Python `ExperimentConfig.from_dict({"preset": "tfrs-tutorial", "epochs": 5})`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from tfrs_mtl._choices import PRESETS

EXPERIMENT_PRESETS: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {
        "default": MappingProxyType({}),
        "tfrs-tutorial": MappingProxyType(
            {
                "tasks": ("retrieval", "rating"),
                "task_weights": {"rating": 1.0},
                "retrieval_negatives": "in_batch",
                "embedding_dim": 32,
                "user_history_length": 0,
                "user_id_dropout": 0.0,
                "retrieval_item_bias": False,
                "identity_embeddings": False,
                "history_clusters": 1,
                "item_item_weight": 0.0,
                "use_l2_norm": False,
                "retrieval_temperature": 1.0,
                "epochs": 3,
                "batch_size": 8192,
                "optimizer": "adagrad",
                "learning_rate": 0.1,
                "ema_momentum": None,
                "blend": {"retrieval": 1.0},
            }
        ),
    }
)
PRESET_NAMES: tuple[str, ...] = PRESETS


def with_preset(data: Mapping[str, Any]) -> dict[str, Any]:
    """`data` with its `preset` key (if any) replaced by that preset's fields, the keys of
    `data` winning over the preset's."""
    from tfrs_mtl.config import ConfigError

    data = dict(data)
    name = data.pop("preset", None)
    if name is None:
        return data
    if name not in EXPERIMENT_PRESETS:
        raise ConfigError(f"preset={name!r} is not one of {list(PRESET_NAMES)}")
    preset = {
        key: dict(value) if isinstance(value, Mapping) else value
        for key, value in EXPERIMENT_PRESETS[name].items()
    }
    return {**preset, **data}
