"""The engagement task: its loss, its negatives (retrieved and random, never a positive),
its config rules, and a model that learns it and serves it as a probability."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_multitask_model import _tensors, movielens_arrays

from tfrs_mtl.config import ConfigError
from tfrs_mtl.models import MultiTaskModel, build_dataset, movielens_config
from tfrs_mtl.tasks import EngagementTask, TaskConfig


def _softplus(x: float) -> float:
    return float(np.log1p(np.exp(x)))


def test_engagement_loss_by_hand() -> None:
    task = EngagementTask(name="engagement")
    logits = tf.constant([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    weights = tf.constant([[1.0, 1.0, 0.0], [2.0, 2.0, 2.0]])
    # Positive (column 0): -log sigmoid(x) = softplus(-x); negative: softplus(x).
    row0 = _softplus(-2.0) + _softplus(-1.0)
    row1 = 2 * (_softplus(0.0) + _softplus(3.0) + _softplus(1.0))
    assert float(task(logits, weights)) == pytest.approx((row0 + row1) / 8, rel=1e-6)
    assert 0.0 < float(task.auc.result()) < 1.0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "needs negatives"),
        ({"num_retrieved_negatives": 5, "retrieved_negatives_pool": 4}, "exceeds"),
        ({"num_random_negatives": -1}, "must be >= 0"),
    ],
)
def test_engagement_config_errors(fields: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TaskConfig(name="engagement", kind="engagement", **fields)


def test_negatives_belong_to_engagement_only_and_engagement_needs_no_label() -> None:
    TaskConfig(name="engagement", kind="engagement", num_random_negatives=2)
    with pytest.raises(ConfigError, match="only apply to kind='engagement'"):
        TaskConfig(name="rating", kind="rating", label_key="r", num_random_negatives=2)


def _history_arrays() -> dict[str, np.ndarray]:
    """Toy MovieLens rows with each user's other movies as `user_history` (ids, -1 padded)."""
    arrays = movielens_arrays(num_examples=96)
    users, movies = arrays["user_id"], arrays["movie_id"].astype(np.int64)
    history = np.full((len(users), 4), -1, np.int64)
    for row, user in enumerate(users):
        others = sorted(set(movies[users == user]) - {movies[row]})[:4]
        history[row, : len(others)] = others
    return {**arrays, "user_history": history}


def _engagement_model(**engagement: int) -> tuple[MultiTaskModel, dict[str, np.ndarray]]:
    tf.keras.utils.set_random_seed(4)
    arrays = _history_arrays()
    config = movielens_config(embedding_dim=8, user_history=True, use_engagement=True)
    config = config.replace(
        tasks=tuple(
            task.replace(**engagement) if task.kind == "engagement" else task
            for task in config.tasks
        )
    )
    return MultiTaskModel.from_data(config, arrays), arrays


def test_drawn_negatives_are_never_the_rows_positives() -> None:
    model, arrays = _engagement_model(
        num_retrieved_negatives=3, retrieved_negatives_pool=5, num_random_negatives=6
    )
    task = model.config.task("engagement")
    batch = _tensors(arrays)
    outputs = model.task_outputs(batch)
    catalogue = model.candidate_tower(model.engagement_loss._features)
    keys = model.catalogue.keys
    for step in range(3):
        rows, usable = model.engagement_loss.draw_negatives(
            task, batch, outputs["query_embedding"], catalogue, tf.constant(step, tf.int64)
        )
        rows, usable = rows.numpy(), usable.numpy()
        assert rows.shape == usable.shape == (96, 9)
        scores = outputs["query_embedding"].numpy() @ catalogue.numpy().T
        for row in range(96):
            positives = {str(arrays["movie_id"][row])} | {
                str(item) for item in arrays["user_history"][row] if item >= 0
            }
            drawn = [keys[r] for r, ok in zip(rows[row], usable[row], strict=True) if ok]
            assert not positives & set(drawn)
            # Retrieved picks come from the 5 best non-positives by the retrieval score.
            allowed = [r for r in np.argsort(-scores[row]) if keys[r] not in positives][:5]
            picked = [r for r, ok in zip(rows[row, :3], usable[row, :3], strict=True) if ok]
            assert set(picked) <= set(allowed)
            assert len(set(rows[row, :3])) == 3  # without replacement
        # A random pick that hit a positive is marked unusable, not dropped.
        hits = [
            keys[r] in {str(arrays["movie_id"][row])} for row in range(96) for r in rows[row, 3:]
        ]
        assert (~usable[:, 3:]).sum() >= sum(hits)


def test_draws_differ_by_step_and_repeat_for_the_same_step() -> None:
    model, arrays = _engagement_model(num_random_negatives=4, num_retrieved_negatives=2)
    task = model.config.task("engagement")
    batch = _tensors(arrays)
    query = model.task_outputs(batch)["query_embedding"]
    catalogue = model.candidate_tower(model.engagement_loss._features)

    def draw(step: int) -> np.ndarray:
        return model.engagement_loss.draw_negatives(
            task, batch, query, catalogue, tf.constant(step, tf.int64)
        )[0].numpy()

    np.testing.assert_array_equal(draw(7), draw(7))
    assert (draw(7) != draw(8)).any()


def test_the_model_learns_engagement_and_serves_it_as_a_probability() -> None:
    model, arrays = _engagement_model(num_retrieved_negatives=2, num_random_negatives=2)
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05))
    batch = _tensors(arrays)
    before = float(model.task_losses(batch)["engagement"])
    history = model.fit(build_dataset(arrays, 32, seed=1), epochs=8, verbose=0).history
    assert float(model.task_losses(batch)["engagement"]) < before
    assert "engagement/auc" in history
    assert model.probability_task_names == ("engagement",)
    scores = model.ranker(batch)["engagement"].numpy()
    assert ((scores > 0) & (scores < 1)).all()


def test_the_default_blend_is_saved_with_the_model(tmp_path) -> None:
    model, _ = _engagement_model(num_random_negatives=2)
    model.default_blend = {"retrieval": 1.0, "engagement": 0.5}
    model.save_model(tmp_path / "model")
    loaded = MultiTaskModel.load_model(tmp_path / "model")
    assert loaded.default_blend == {"retrieval": 1.0, "engagement": 0.5}
    (tmp_path / "model" / "default_blend.json").write_text('{"clicks": 1}')
    with pytest.raises(ValueError, match=r"default_blend\.json: expected"):
        MultiTaskModel.load_model(tmp_path / "model")
