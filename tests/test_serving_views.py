"""The serving views of `MultiTaskModel`: encoders, ranker, names and signatures."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_multitask_model import ecommerce_arrays

from tfrs_mtl.models import MultiTaskModel, build_dataset, ecommerce_config
from tfrs_mtl.serving.interfaces import ServableModel


@pytest.fixture(scope="module")
def model() -> MultiTaskModel:
    tf.keras.utils.set_random_seed(6)
    return MultiTaskModel.from_data(ecommerce_config(embedding_dim=4), ecommerce_arrays())


def test_names_and_signatures(model: MultiTaskModel) -> None:
    assert isinstance(model, ServableModel)
    assert model.query_feature_names == ("user_id",)
    # The price is a candidate feature the ranker reads and the candidate tower does not.
    assert model.candidate_feature_names == ("item_id", "brand", "price")
    assert (model.query_id_feature, model.candidate_id_feature) == ("user_id", "item_id")
    assert model.ranking_task_names == ("click", "cart", "purchase")
    signature = model.feature_signature("candidate")
    assert signature["item_id"] == tf.TensorSpec([None], tf.string, name="item_id")


def test_encoders_and_ranker_read_only_their_features(model: MultiTaskModel) -> None:
    arrays = ecommerce_arrays(num_examples=5)
    query = {"user_id": tf.constant(arrays["user_id"].astype(str))}
    candidates = {name: tf.constant(arrays[name].astype(str)) for name in ("item_id", "brand")}
    assert model.query_encoder(query).shape == (5, 4)
    assert model.candidate_encoder(candidates).shape == (5, 4)
    scores = model.ranker({**query, **candidates, "price": tf.constant(arrays["price"])})
    assert set(scores) == set(model.ranking_task_names)
    assert all(score.shape == (5,) for score in scores.values())
    # The views are the model's own layers: the same numbers as the full forward pass.
    batch = next(iter(build_dataset(arrays, 5, shuffle=False)))
    outputs = model.task_outputs(batch)
    np.testing.assert_allclose(
        model.query_encoder(query).numpy(), outputs["query_embedding"].numpy(), rtol=1e-6
    )
    np.testing.assert_allclose(scores["purchase"].numpy(), outputs["purchase"].numpy(), rtol=1e-6)


def test_a_model_without_ranking_tasks_has_no_ranker() -> None:
    config = ecommerce_config(embedding_dim=4)
    config = config.replace(tasks=(config.task("retrieval"),))
    model = MultiTaskModel.from_data(config, ecommerce_arrays())
    assert model.ranking_task_names == ()
    with pytest.raises(AttributeError, match="no ranking task"):
        _ = model.ranker


def test_the_model_s_ranker_is_an_embedding_ranker(model: MultiTaskModel) -> None:
    from tfrs_mtl.serving import EmbeddingRanker

    assert isinstance(model.ranker, EmbeddingRanker)
    assert model.ranker.reads_plain_queries is False  # no clustered history here


def test_known_candidate_ids_are_those_of_the_training_vocabulary(model: MultiTaskModel) -> None:
    trained = np.unique(ecommerce_arrays()["item_id"].astype(str))
    ids = np.array([trained[0], "never-seen", trained[-1]], dtype=object)
    np.testing.assert_array_equal(model.known_candidate_ids(ids), [True, False, True])
