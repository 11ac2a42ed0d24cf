"""`QueryTower` and `CandidateTower`: a side's encoded features -> its embedding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import tensorflow as tf

from tfrs_mtl.features import FeatureEncoder, SharedEmbeddings
from tfrs_mtl.layers.multilayer_perceptron import MultiLayerPerceptron


class _FeatureTower(tf.keras.layers.Layer):
    """`FeatureEncoder` over one side's features, then an MLP, then optional L2 norm."""

    side: ClassVar[str]

    def __init__(
        self,
        shared_embeddings: SharedEmbeddings | dict[str, Any],
        hidden_dims: Sequence[int] = (64,),
        output_dim: int = 32,
        activation: str = "relu",
        dropout: float = 0.0,
        use_l2_norm: bool = False,
        feature_names: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(shared_embeddings, dict):
            # From `get_config()`: a rebuilt tower owns a fresh copy of the tables.
            self.shared_embeddings: SharedEmbeddings = tf.keras.layers.deserialize(
                shared_embeddings
            )
        else:
            self.shared_embeddings = shared_embeddings
        self.hidden_dims = tuple(hidden_dims)
        self.output_dim = output_dim
        self.activation = activation
        self.dropout = dropout
        self.use_l2_norm = use_l2_norm
        self.feature_names = tuple(feature_names) if feature_names is not None else None
        if self.feature_names is None:
            self.encoder = FeatureEncoder(self.shared_embeddings, side=self.side)
        else:
            self.encoder = FeatureEncoder(self.shared_embeddings, feature_names=self.feature_names)
        self.projection = MultiLayerPerceptron(
            hidden_dims=self.hidden_dims,
            output_dim=output_dim,
            activation=activation,
            dropout=dropout,
            name="projection",
        )

    @property
    def encoded_feature_names(self) -> tuple[str, ...]:
        """The raw features the tower reads."""
        return self.encoder.encoded_feature_names

    def call(
        self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor], training: bool | None = None
    ) -> tf.Tensor:
        """Embeds a raw feature dict.

        Args:
            inputs: feature name -> `[batch_size]` (multi-hot `[batch_size, max_len]`) tensors;
                keys the tower does not read are ignored.
            training: enables dropout.

        Returns:
            float32 `[batch_size, output_dim]`, unit-norm rows when `use_l2_norm`.
        """
        embeddings = self.projection(self.encoder(inputs), training=training)
        if self.use_l2_norm:
            embeddings = tf.math.l2_normalize(embeddings, axis=-1)
        return embeddings

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "shared_embeddings": tf.keras.layers.serialize(self.shared_embeddings),
                "hidden_dims": list(self.hidden_dims),
                "output_dim": self.output_dim,
                "activation": self.activation,
                "dropout": self.dropout,
                "use_l2_norm": self.use_l2_norm,
                "feature_names": list(self.feature_names) if self.feature_names else None,
            }
        )
        return config


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class QueryTower(_FeatureTower):
    """The query (user) tower: the spec's query-side features -> `[batch_size, output_dim]`.

    Args:
        shared_embeddings: the model's `SharedEmbeddings` (tables read by reference).
        hidden_dims: hidden layer sizes of the MLP (may be empty).
        output_dim: embedding size.
        activation: Keras activation of the hidden layers.
        dropout: dropout after each hidden layer (training only).
        use_l2_norm: L2-normalize the output.
        feature_names: read exactly these features instead of all query-side ones.
        **kwargs: passed to `tf.keras.layers.Layer`.

    Example:
        >>> tower = QueryTower(shared, **TowerConfig(output_dim=32).to_dict())
        >>> tower({"user_id": tf.constant(["42"]), ...}).shape
        TensorShape([1, 32])
    """

    side = "query"


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class CandidateTower(_FeatureTower):
    """The candidate (item) tower: candidate-side features -> `[batch_size, output_dim]`.

    Same arguments as `QueryTower`.
    """

    side = "candidate"
