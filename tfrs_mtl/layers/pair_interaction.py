"""`PairInteraction`: a (query, candidate) embedding pair -> the ranking stacks' input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import tensorflow as tf
import tensorflow_recommenders as tfrs


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class PairInteraction(tf.keras.layers.Layer):
    """Builds `concat[q, c, q * c, q . c]` from the two towers' outputs.

    The element-wise product and the dot product make the query-candidate interaction explicit,
    so the ranking experts need not learn a multiplication from concatenated inputs. With
    `use_cross`, DCN cross layers (Wang et al., "DCN V2", WWW 2021; `tfrs.layers.dcn.Cross`)
    are stacked on that vector: `x_{l+1} = x_0 * (W x_l + b) + x_l`, same width.

    Args:
        use_cross: stack `num_cross_layers` cross layers on the pair features.
        num_cross_layers: number of cross layers.
        cross_projection_dim: low-rank size of the cross layers' `W` (None: full rank).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Call: `(query [batch_size, dim], candidate [batch_size, dim])` ->
    `[batch_size, 3 * dim + 1]`.
    """

    def __init__(
        self,
        use_cross: bool = False,
        num_cross_layers: int = 1,
        cross_projection_dim: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.use_cross = use_cross
        self.num_cross_layers = num_cross_layers
        self.cross_projection_dim = cross_projection_dim
        self._cross_layers = (
            [
                tfrs.layers.dcn.Cross(projection_dim=cross_projection_dim, name=f"cross_{i}")
                for i in range(num_cross_layers)
            ]
            if use_cross
            else []
        )

    @staticmethod
    def output_dim_for(embedding_dim: int) -> int:
        """Width of the output for towers of width `embedding_dim`."""
        return 3 * embedding_dim + 1

    def call(self, inputs: Sequence[tf.Tensor]) -> tf.Tensor:
        query, candidate = inputs
        if query.shape[-1] != candidate.shape[-1]:
            raise ValueError(
                f"PairInteraction: query width {query.shape[-1]} != candidate width "
                f"{candidate.shape[-1]}; give both towers the same output_dim"
            )
        product = query * candidate
        dot = tf.reduce_sum(product, axis=-1, keepdims=True)
        pair = tf.concat([query, candidate, product, dot], axis=-1)
        crossed = pair
        for cross in self._cross_layers:
            crossed = cross(pair, crossed)
        return crossed

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "use_cross": self.use_cross,
                "num_cross_layers": self.num_cross_layers,
                "cross_projection_dim": self.cross_projection_dim,
            }
        )
        return config
