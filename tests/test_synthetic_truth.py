"""FunnelParameters and SyntheticTruth computed by hand on two users and two items."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.data.synthetic_truth import FunnelParameters, SyntheticTruth


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


def test_funnel_probabilities_by_hand() -> None:
    funnel = FunnelParameters(
        cart_bias=-1.0, cart_affinity_weight=2.0, favorite_bias=0.0,
        favorite_affinity_weight=1.0, purchase_bias=0.5, purchase_affinity_weight=1.0,
        purchase_price_weight=2.0,
    )  # fmt: skip
    p = funnel.probabilities(np.array([0.5]), np.array([1.0]))
    assert p["cart"][0] == pytest.approx(_sigmoid(0.0))
    assert p["favorite"][0] == pytest.approx(_sigmoid(0.5))
    assert p["purchase_given_cart"][0] == pytest.approx(_sigmoid(0.5 + 0.5 - 2.0))
    assert p["purchase"][0] == pytest.approx(0.5 * _sigmoid(-1.0))


def test_funnel_parameters_round_trip_and_validation() -> None:
    funnel = FunnelParameters(purchase_price_weight=0.5)
    assert FunnelParameters.from_dict(funnel.to_dict()) == funnel
    with pytest.raises(ValueError, match=r"purchase_price_weight=-0\.5"):
        FunnelParameters.from_dict({"purchase_price_weight": -0.5})


def test_truth_affinity_and_price_score_by_hand() -> None:
    truth = SyntheticTruth(
        user_factors=np.array([[1.0, 0.0], [0.0, 2.0]], np.float32),
        item_factors=np.array([[3.0, 1.0], [1.0, 1.0]], np.float32),
        category_centroids=np.zeros((1, 2), np.float32),
        item_category=np.zeros(2, np.int32),
        item_brand=np.zeros(2, np.int32),
        item_price=np.array([1.0, np.e**2], np.float32),
        item_popularity=np.array([0.5, 0.5]),
        user_activity=np.array([0.5, 0.5]),
        funnel=FunnelParameters(),
    )
    np.testing.assert_allclose(truth.affinity(np.array([0, 1]), np.array([0, 1])), [3.0, 2.0])
    # log prices 0 and 2: mean 1, standard deviation 1.
    np.testing.assert_allclose(truth.price_score(np.array([0, 1])), [-1.0, 1.0], rtol=1e-6)
    probabilities = truth.funnel_probabilities(np.array([1]), np.array([1]))
    expected = FunnelParameters().probabilities(np.array([2.0]), np.array([1.0]))
    np.testing.assert_allclose(probabilities["purchase"], expected["purchase"], rtol=1e-6)
