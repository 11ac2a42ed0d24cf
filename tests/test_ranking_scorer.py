"""`RankingScorer`: rating = head + biases; ESMM purchase = p(click) * p(purchase | click)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfrs_mtl.features import FeatureConfig, FeatureSpec, FeatureVocabularies, SharedEmbeddings
from tfrs_mtl.layers import ExpertsConfig, InteractionConfig
from tfrs_mtl.models.ranking_scorer import RankingScorer
from tfrs_mtl.tasks import TaskConfig

SPEC = FeatureSpec(
    features=(
        FeatureConfig(name="user_id", kind="id", side="query", embedding_dim=4),
        FeatureConfig(name="item_id", kind="id", side="candidate", embedding_dim=4),
    )
)
TASKS = (
    TaskConfig(
        name="rating",
        kind="rating",
        label_key="r",
        use_global_bias=True,
        use_user_bias=True,
        use_item_bias=True,
    ),
    TaskConfig(name="click", kind="binary", label_key="click"),
    TaskConfig(name="purchase", kind="binary", label_key="purchase", conditioned_on="click"),
)


def _scorer() -> RankingScorer:
    arrays = {"user_id": np.array(["a", "b"]), "item_id": np.array(["x", "y"])}
    shared = SharedEmbeddings(SPEC, FeatureVocabularies.fit(SPEC, arrays))
    return RankingScorer(
        TASKS,
        ExpertsConfig(architecture="mmoe", num_experts=2, expert_hidden_dims=(8,)),
        InteractionConfig(),
        shared,
        "user_id",
        "item_id",
        label_means={"rating": 3.5},
    )


def test_scores_follow_their_definitions() -> None:
    tf.keras.utils.set_random_seed(0)
    scorer = _scorer()
    features = {"user_id": tf.constant(["a", "b", "zz"]), "item_id": tf.constant(["y", "x", "x"])}
    query, candidate = tf.random.normal([3, 4]), tf.random.normal([3, 4])
    scores = scorer(features, query, candidate)
    bias = scorer.biases["rating"]
    bias.user_bias.assign([0.1, 0.2, 0.3])  # rows: a, b, OOV
    bias.item_bias.assign([1.0, 2.0, 3.0])  # rows: x, y, OOV
    assert float(bias.global_bias) == 3.5  # starts at the mean training rating
    rescored = scorer(features, query, candidate)
    np.testing.assert_allclose(
        (rescored["rating"] - scores["rating"]).numpy(),
        [0.1 + 2.0, 0.2 + 1.0, 0.3 + 1.0],
        rtol=1e-5,
    )
    pair = scorer.interaction([query, candidate])
    representations = scorer.stack(pair)
    conversion = tf.sigmoid(tf.squeeze(scorer.heads["purchase"](representations["purchase"]), -1))
    np.testing.assert_allclose(
        scores["purchase"].numpy(), (scores["click"] * conversion).numpy(), rtol=1e-6
    )
    assert np.all(scores["purchase"].numpy() <= scores["click"].numpy())
