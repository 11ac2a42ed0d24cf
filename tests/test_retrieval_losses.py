"""`RetrievalLosses`: what needs a catalogue, and the catalogue rank of each row's positive."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.models import Catalogue
from tfrs_mtl.models.retrieval_losses import RetrievalLosses
from tfrs_mtl.tasks import TaskConfig

EMBEDDINGS = {"a": [0.5, 0.0], "b": [1.0, 0.0], "c": [2.0, 0.0]}


def _catalogue() -> Catalogue:
    ids = np.array(list(EMBEDDINGS))
    return Catalogue({"item_id": ids}, "item_id", np.full(len(ids), 1 / len(ids)))


def _embed(features: dict[str, tf.Tensor], training: bool = False) -> tuple[tf.Tensor, tf.Tensor]:
    """The item's fixed embedding (`EMBEDDINGS`) as tower output and retrieval embedding:
    hand-computable scores."""
    ids = [item.decode() for item in features["item_id"].numpy()]
    embeddings = tf.constant([EMBEDDINGS[item] for item in ids])
    return embeddings, embeddings


def test_full_catalogue_and_logq_need_a_catalogue() -> None:
    task = TaskConfig(name="retrieval", kind="retrieval", use_logq_correction=True)
    with pytest.raises(ValueError, match="task 'retrieval': use_full_catalogue / use_logq"):
        RetrievalLosses(None, [task], "item_id", ["item_id"])


def test_positive_rank_counts_the_catalogue_items_scored_above_it() -> None:
    losses = RetrievalLosses(_catalogue(), [], "item_id", ["item_id"])
    # Query [1, 0] scores a, b, c at 0.5, 1, 2; the positive b is beaten by c only, a by b and c.
    ranks = losses.positive_ranks(
        {"item_id": tf.constant(["b", "a"])},
        {
            "query_embedding": tf.constant([[1.0, 0.0], [1.0, 0.0]]),
            "candidate_embedding": tf.constant([EMBEDDINGS["b"], EMBEDDINGS["a"]]),
        },
        _embed,
    )
    np.testing.assert_array_equal(ranks.numpy(), [1, 2])
