"""Fixed weighting, the builder, the epoch callback and config round trips of every strategy."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.tasks import (
    DynamicWeightAverage,
    FixedWeighting,
    GradNormWeighting,
    LossWeightingCallback,
    TaskConfig,
    UncertaintyWeighting,
    WeightingConfig,
    build_loss_weighting,
    combine_losses,
)

LOSSES = {"rating": tf.constant(2.0), "retrieval": tf.constant(4.0)}


def test_fixed_weighting_is_the_weighted_sum() -> None:
    weighting = FixedWeighting(("rating", "retrieval"), (1.0, 0.25))
    terms = weighting(LOSSES)
    assert {name: float(value) for name, value in terms.items()} == {
        "rating": 2.0,
        "retrieval": 1.0,
    }
    assert float(combine_losses(terms)) == 3.0
    assert {k: float(v) for k, v in weighting.task_weights().items()} == {
        "rating": 1.0,
        "retrieval": 0.25,
    }


def test_missing_task_loss_names_the_task() -> None:
    with pytest.raises(KeyError, match="genres"):
        FixedWeighting(("rating", "genres"))({"rating": tf.constant(1.0)})


@pytest.mark.parametrize(
    ("method", "cls"),
    [
        ("fixed", FixedWeighting),
        ("uncertainty", UncertaintyWeighting),
        ("dwa", DynamicWeightAverage),
        ("gradnorm", GradNormWeighting),
    ],
)
def test_builder_and_config_round_trip(method: str, cls: type) -> None:
    tasks = (
        TaskConfig(name="rating", kind="rating", label_key="user_rating", weight=2.0),
        TaskConfig(name="retrieval", kind="retrieval"),
    )
    weighting = build_loss_weighting(WeightingConfig(method=method), tasks)
    assert type(weighting) is cls
    clone = cls.from_config(weighting.get_config())
    assert clone.get_config() == weighting.get_config()
    restored = tf.keras.layers.deserialize(tf.keras.layers.serialize(weighting))
    assert type(restored) is cls and restored.task_names == ("rating", "retrieval")


def test_callback_ends_the_epoch_of_the_weighting() -> None:
    weighting = DynamicWeightAverage(("a", "b"))
    weighting.observe({"a": tf.constant(1.0), "b": tf.constant(2.0)})
    LossWeightingCallback(weighting).on_epoch_end(0)
    np.testing.assert_allclose(weighting.previous_losses.numpy()[0], [1.0, 2.0])
    assert float(weighting.num_epochs_seen.numpy()) == 1.0
