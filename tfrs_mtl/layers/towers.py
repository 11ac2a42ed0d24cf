"""`QueryTower` and `CandidateTower`: a side's encoded features -> its embedding.

With `use_bias_dimension`, both towers emit one more column: the query tower a constant 1,
the candidate tower a learned bias of each item (one scalar per row of its id table, zero at
start). Their dot product is then `query . candidate + bias(item)`: a per-item logit bias
(the item's popularity beside its cosine similarity) that any dot-product index, ScaNN
included, serves unchanged.

With `identity_feature`, the output is `[e_f, m] / sqrt(2)`: the L2-normalised embedding of
that one feature (e.g. the pooled user history, or the item's own table row) beside the
L2-normalised MLP output over all the tower's features, so a dot product of two such towers
is the mean of two cosine similarities: the raw item-item one that EASE-style models learn
(the history's items against the candidate's row, no projection between them) and the
projected one the MLP learns (user id, side features).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import tensorflow as tf

from tfrs_mtl.features import FeatureConfig, FeatureEncoder, SharedEmbeddings
from tfrs_mtl.features.feature_encoder import feature_output_dim
from tfrs_mtl.features.raw_values import dense_values, padding_mask
from tfrs_mtl.layers.history_clusters import clustered_directions
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
        use_bias_dimension: bool = False,
        id_feature: str | None = None,
        identity_feature: str | None = None,
        history_clusters: int = 1,
        history_clusters_min_length: int = 150,
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
        self.use_bias_dimension = use_bias_dimension
        self.id_feature = id_feature
        if self.feature_names is None:
            self.encoder = FeatureEncoder(self.shared_embeddings, side=self.side)
        else:
            self.encoder = FeatureEncoder(self.shared_embeddings, feature_names=self.feature_names)
        self.identity_feature = identity_feature
        self._identity_columns = self._columns_of(identity_feature)
        self.history_clusters = history_clusters
        self.history_clusters_min_length = history_clusters_min_length
        # The history that retrieval queries pool by clusters (None: no clustering).
        self._clustered_history: FeatureConfig | None = None
        if history_clusters > 1:
            identity = next((f for f in self.encoder.features if f.name == identity_feature), None)
            if identity is None or identity.kind != "multi_hot":
                raise ValueError(
                    f"{type(self).__name__}: history_clusters={history_clusters} needs a "
                    f"multi_hot identity_feature (got {identity_feature!r})"
                )
            self._clustered_history = identity
        identity_width = (
            0
            if self._identity_columns is None
            else (self._identity_columns[1] - self._identity_columns[0])
        )
        #: The output's columns.
        self.embedding_width = identity_width + output_dim + int(use_bias_dimension)
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

    def _columns_of(self, name: str | None) -> tuple[int, int] | None:
        """`(start, stop)` of feature `name`'s columns in the encoder's output."""
        if name is None:
            return None
        start = 0
        for feature in self.encoder.features:
            width = feature_output_dim(feature)
            if feature.name == name:
                return start, start + width
            start += width
        raise ValueError(
            f"{type(self).__name__}: identity_feature={name!r} is not one of its features "
            f"{list(self.encoder.encoded_feature_names)}"
        )

    def call(
        self,
        inputs: Mapping[str, tf.Tensor | tf.RaggedTensor],
        training: bool | None = None,
        retrieval_query: bool = False,
    ) -> tf.Tensor:
        """Embeds a raw feature dict.

        Args:
            inputs: feature name -> `[batch_size]` (multi-hot `[batch_size, max_len]`) tensors;
                keys the tower does not read are ignored.
            training: enables dropout.
            retrieval_query: outside training steps, the embedding stage 1 retrieves with (the
                model's `query_encoder`, which evaluation and serving use); the losses and
                the ranking stack read the plain one. With `history_clusters > 1` long
                histories are pooled by clusters (per-row scoring stays cheap without). In
                a query tower with `use_bias_dimension`, a row of which nothing is known
                (`nothing_known`: an unknown id, an empty history) keeps the bias column
                alone: it retrieves by the learned item biases, the model's own estimate of
                what any user picks, not by a direction the towers never trained.

        Returns:
            float32 `[batch_size, output_dim]` (`output_dim + 1` with `use_bias_dimension`),
            the first `output_dim` columns unit-norm when `use_l2_norm`. With
            `identity_feature` the identity feature's width comes first: `[e_f, m] / sqrt(2)`,
            unit-norm as a whole.
        """
        encoded = self.encoder(inputs)
        embeddings = self.projection(encoded, training=training)
        if self.use_l2_norm:
            embeddings = tf.math.l2_normalize(embeddings, axis=-1)
        if self._identity_columns is not None:
            start, stop = self._identity_columns
            identity = tf.math.l2_normalize(encoded[:, start:stop], axis=-1)
            # Never in training steps: the default training histories are shorter than the
            # threshold, and a gradient through the k-means branch of the tf.cond would keep
            # its intermediates (zeros) alive in every step.
            history = self._clustered_history
            if history is not None and retrieval_query and training is not True:
                identity = self._clustered_identity(inputs, history, identity)
            embeddings = tf.concat([identity, embeddings], axis=-1) * math.sqrt(0.5)
        if self.side == "query" and self.use_bias_dimension and retrieval_query and not training:
            unknown = self.nothing_known(inputs)
            if unknown is not None:
                embeddings = tf.where(unknown[:, tf.newaxis], tf.zeros_like(embeddings), embeddings)
        if self.use_bias_dimension:
            embeddings = tf.concat([embeddings, self.bias_column(inputs, embeddings)], axis=-1)
        return embeddings

    def nothing_known(self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor]) -> tf.Tensor | None:
        """`[batch_size]` bool: the rows whose every feature is unknown (an id or category
        outside the vocabulary, an empty multi-valued feature); None when some feature can
        never be unknown (numbers, times, text, hashed ids)."""
        unknown = None
        for feature in self.encoder.features:
            values = inputs[feature.name]
            if feature.kind == "multi_hot":
                empty = ~tf.reduce_any(padding_mask(dense_values(values)), axis=1)
            elif feature.kind in ("id", "categorical") and feature.uses_vocabulary:
                keys = tf.reshape(values, [-1])
                empty = ~self.shared_embeddings.in_vocabulary(feature.name, keys)
            else:
                return None
            unknown = empty if unknown is None else unknown & empty
        return unknown

    def _clustered_identity(
        self,
        inputs: Mapping[str, tf.Tensor | tf.RaggedTensor],
        history: FeatureConfig,
        identity: tf.Tensor,
    ) -> tf.Tensor:
        """`identity` with the rows whose `history` holds at least
        `history_clusters_min_length` values replaced by their clustered directions
        (`history_clusters` module)."""
        values = dense_values(inputs[history.name])
        present = padding_mask(values)
        long = tf.reduce_sum(tf.cast(present, tf.int32), axis=1) >= self.history_clusters_min_length

        def clustered() -> tf.Tensor:
            table = history.table_name
            rows = self.shared_embeddings.embed(
                table, self.shared_embeddings.lookup_in_table(table, values)
            )
            directions = clustered_directions(rows, present, self.history_clusters)
            return tf.where(long[:, tf.newaxis], directions, identity)

        # Batches without a long history (all training batches of a capped history) skip it.
        return tf.cond(tf.reduce_any(long), clustered, lambda: identity)

    def bias_column(
        self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor], embeddings: tf.Tensor
    ) -> tf.Tensor:
        """The extra column of `use_bias_dimension`, `[batch_size, 1]`."""
        raise NotImplementedError

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
                "use_bias_dimension": self.use_bias_dimension,
                "id_feature": self.id_feature,
                "identity_feature": self.identity_feature,
                "history_clusters": self.history_clusters,
                "history_clusters_min_length": self.history_clusters_min_length,
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
        use_bias_dimension: append a constant 1 column (pairs with the candidate tower's
            item bias column).
        id_feature: unused by the query tower (the candidate tower's item id feature).
        identity_feature: one of its features whose own L2-normalised embedding is
            concatenated before the (L2-normalised) MLP output, the whole scaled by
            `1/sqrt(2)` (module docstring).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Example:
        >>> tower = QueryTower(shared, **TowerConfig(output_dim=32).to_dict())
        >>> tower({"user_id": tf.constant(["42"]), ...}).shape
        TensorShape([1, 32])
    """

    side = "query"

    def bias_column(
        self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor], embeddings: tf.Tensor
    ) -> tf.Tensor:
        return tf.ones_like(embeddings[:, :1])


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class CandidateTower(_FeatureTower):
    """The candidate (item) tower: candidate-side features -> `[batch_size, output_dim]`.

    Same arguments as `QueryTower`, except:
        id_feature: with `use_bias_dimension`, the item id feature whose table rows index the
            learned item biases (required then).
    """

    side = "candidate"

    def build(self, input_shape: Any) -> None:
        if self.use_bias_dimension:
            if self.id_feature is None:
                raise ValueError("CandidateTower: use_bias_dimension=True needs id_feature=")
            table = self.shared_embeddings.table_name(self.id_feature)
            self.item_bias = self.add_weight(
                name="item_bias",
                shape=(self.shared_embeddings.num_rows(table), 1),
                initializer="zeros",
            )
        super().build(input_shape)

    def bias_column(
        self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor], embeddings: tf.Tensor
    ) -> tf.Tensor:
        assert self.id_feature is not None
        keys = tf.reshape(tf.convert_to_tensor(inputs[self.id_feature]), [-1])
        return tf.gather(self.item_bias, self.shared_embeddings.lookup(self.id_feature, keys))
