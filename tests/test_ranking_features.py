"""Ranking-only features: read by the ranking stack beside the towers, by no tower."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_multitask_model import _tensors, ecommerce_arrays

from tfrs_mtl.config import ConfigError
from tfrs_mtl.features import FeatureConfig, FeatureSpec, ecommerce_feature_spec
from tfrs_mtl.models import MultiTaskModel, build_dataset, ecommerce_config


def test_a_ranking_only_feature_belongs_to_its_side_but_to_no_tower() -> None:
    spec = ecommerce_feature_spec(ranking_price=True)
    assert "price" in [f.name for f in spec.candidate_features]
    assert "price" not in [f.name for f in spec.tower_features("candidate")]
    assert [f.name for f in spec.ranking_features] == ["price"]


def test_the_leakage_guard_lets_a_tower_predict_what_only_the_ranker_reads() -> None:
    config = ecommerce_config(embedding_dim=4)
    assert config.features.feature("price").ranking_only
    assert config.task("price").kind == "attribute"
    tower_read = config.features.without(("price",))
    price = FeatureConfig(name="price", kind="numeric", side="candidate", use_log1p=True)
    with pytest.raises(ConfigError, match="price"):
        config.replace(features=FeatureSpec(features=(*tower_read.features, price)))


def _model() -> tuple[MultiTaskModel, dict[str, np.ndarray]]:
    tf.keras.utils.set_random_seed(5)
    arrays = ecommerce_arrays(num_examples=96)
    model = MultiTaskModel.from_data(ecommerce_config(embedding_dim=4, use_engagement=True), arrays)
    return model, arrays


def test_the_ranker_reads_the_price_and_the_towers_do_not() -> None:
    model, arrays = _model()
    batch = _tensors(arrays)
    pricier = _tensors({**arrays, "price": arrays["price"] * 50.0})
    np.testing.assert_array_equal(
        model.candidate_encoder(batch).numpy(), model.candidate_encoder(pricier).numpy()
    )
    before, after = model.ranker(batch), model.ranker(pricier)
    assert not np.allclose(before["purchase"].numpy(), after["purchase"].numpy())


def test_engagement_negatives_are_scored_with_their_own_catalogue_price() -> None:
    model, _ = _model()
    loss = model.engagement_loss
    rows = tf.constant([[0, 2], [1, 1]], tf.int64)
    batch = {"price": tf.constant([7.0, 9.0])}
    pairs = loss._pair_features(model.ranking_scorer, batch, rows)
    catalogue_price = loss._features["price"].numpy()
    np.testing.assert_allclose(
        pairs["price"].numpy(),
        [7.0, catalogue_price[0], catalogue_price[2], 9.0, catalogue_price[1], catalogue_price[1]],
    )


def test_a_model_with_a_ranking_feature_trains_and_serves() -> None:
    model, arrays = _model()
    model.compile_default()
    history = model.fit(build_dataset(arrays, 32, seed=1), epochs=2, verbose=0).history
    assert np.isfinite(history["engagement/loss"]).all()
    assert "price" in model.candidate_feature_names
