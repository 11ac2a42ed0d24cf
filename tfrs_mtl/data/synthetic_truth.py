"""What the synthetic e-commerce generator plants: the funnel coefficients and the truth.

`FunnelParameters` is the logistic model of the view -> cart -> purchase funnel;
`SyntheticTruth` holds the factors, catalogue and popularity a log was drawn from, and recomputes
affinities and funnel probabilities for any user-item pairs, so that tests and notebooks can
check what a model recovers against what was planted.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tfrs_mtl.config.base import Config, require


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclasses.dataclass(frozen=True)
class FunnelParameters(Config):
    """Logistic coefficients of the funnel; `affinity` is the user-item dot product and
    `price_score` the item's log price standardized over the catalogue.

    p(cart | view) = sigmoid(cart_bias + cart_affinity_weight * affinity),
    p(favorite | view) = sigmoid(favorite_bias + favorite_affinity_weight * affinity),
    p(purchase | cart) = sigmoid(purchase_bias + purchase_affinity_weight * affinity
                                 - purchase_price_weight * price_score).
    """

    cart_bias: float = -5.0
    cart_affinity_weight: float = 2.0
    favorite_bias: float = -5.0
    favorite_affinity_weight: float = 1.5
    purchase_bias: float = -1.5
    purchase_affinity_weight: float = 1.0
    purchase_price_weight: float = 1.0

    def validate(self) -> None:
        require(
            self.purchase_price_weight >= 0,
            f"purchase_price_weight={self.purchase_price_weight} must be >= 0 "
            "(a higher price never raises the purchase probability)",
        )

    def probabilities(self, affinity: np.ndarray, price_score: np.ndarray) -> dict[str, Any]:
        """The funnel probabilities, each shaped like `affinity` (`[num_views]`).

        Returns:
            `cart` and `favorite` given a view, `purchase_given_cart`, and `purchase` given a
            view (their product along the funnel).
        """
        cart = _sigmoid(self.cart_bias + self.cart_affinity_weight * affinity)
        purchase_given_cart = _sigmoid(
            self.purchase_bias
            + self.purchase_affinity_weight * affinity
            - self.purchase_price_weight * price_score
        )
        return {
            "cart": cart,
            "favorite": _sigmoid(self.favorite_bias + self.favorite_affinity_weight * affinity),
            "purchase_given_cart": purchase_given_cart,
            "purchase": cart * purchase_given_cart,
        }


@dataclasses.dataclass(frozen=True, eq=False)
class SyntheticTruth:
    """The structure planted in a synthetic log (indices are the integer ids).

    Attributes:
        user_factors: `[num_users, embedding_dim]` float32.
        item_factors: `[num_items, embedding_dim]` float32.
        category_centroids: `[num_categories, embedding_dim]` float32.
        item_category: `[num_items]` int32 category index.
        item_brand: `[num_items]` int32 brand index.
        item_price: `[num_items]` float32.
        item_popularity: `[num_items]` float64, an item's share of its category's candidate
            draws (popularity alone, before affinity).
        user_activity: `[num_users]` float64, each user's share of views.
        funnel: the funnel coefficients used.
    """

    user_factors: np.ndarray
    item_factors: np.ndarray
    category_centroids: np.ndarray
    item_category: np.ndarray
    item_brand: np.ndarray
    item_price: np.ndarray
    item_popularity: np.ndarray
    user_activity: np.ndarray
    funnel: FunnelParameters

    def affinity(self, user_index: np.ndarray, item_index: np.ndarray) -> np.ndarray:
        """`[n]` dot products of the factors of `[n]` users and `[n]` items."""
        users = self.user_factors[np.asarray(user_index)]
        return np.einsum("nd,nd->n", users, self.item_factors[np.asarray(item_index)])

    def price_score(self, item_index: np.ndarray) -> np.ndarray:
        """`[n]` log prices standardized over the catalogue."""
        log_price = np.log(self.item_price.astype(np.float64))
        return (log_price[np.asarray(item_index)] - log_price.mean()) / max(log_price.std(), 1e-9)

    def funnel_probabilities(
        self, user_index: np.ndarray, item_index: np.ndarray
    ) -> dict[str, Any]:
        """The funnel probabilities of `[n]` user-item pairs (see `FunnelParameters`)."""
        affinity = self.affinity(user_index, item_index)
        return self.funnel.probabilities(affinity, self.price_score(item_index))
