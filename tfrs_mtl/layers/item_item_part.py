"""`ItemItemPart`: a fixed item-item matrix as an optional part of the retrieval score.

The part adds `weight * sum_h W[c, h]` to the towers' score of candidate `c` for a user whose
history holds the items `h`: `W[c, h]` is what history item h adds to candidate c, a matrix
fitted in closed form on the training interactions (`tfrs_mtl.models.item_item`: EASE, Steck,
WWW 2019) and never trained. Beside the towers' learned rank-`dim` score it gives retrieval a
full-rank item-item one.

It is served as columns appended to each side's retrieval embedding, so the sum stays one
dot product that any dot-product index (ScaNN included) serves: the query side appends
`weight` times the multi-hot of its history's rows (`query_columns`), the candidate side the
item's row of `W` (`candidate_columns`). The towers never see it: the ranking stack and the
attribute heads read the towers' own outputs, and a retrieval embedding's first
`tower.embedding_width` columns are the tower's.

In training steps (`training=True`) the query columns carry `train_weight` instead (None: the
same weight); at 0 the part is left out of training steps (`columns_in(True) == 0`), so the
towers train as if it were absent and it is added to the served score only.

With `recency > 0` a history item weighs `(1 + r) ** -recency` instead of 1, `r` the number
of history values after it in its row (0 for the last): histories listed oldest first
(`tfrs_mtl.features.UserHistories` orders a served user's by time where the data have
timestamps) then lean on what the user chose last, which is what predicts the next choice
on data split by time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tfrs_mtl.features import SharedEmbeddings
from tfrs_mtl.features.raw_values import dense_values, padding_mask


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class ItemItemPart(tf.keras.layers.Layer):
    """A fixed `[num_rows, num_rows]` item-item matrix over the item table's rows.

    Args:
        shared_embeddings: the model's `SharedEmbeddings` (maps ids to table rows).
        history_feature: the query side's multi-hot history of item ids.
        item_feature: the candidate side's item id feature (same table as the history).
        weight: the part's weight in the served score, > 0.
        train_weight: its weight in training steps; None: `weight`; 0: left out of them.
        recency: >= 0; a history value followed by `r` others in its row weighs
            `(1 + r) ** -recency` (0: every value weighs 1).
        **kwargs: passed to `tf.keras.layers.Layer`.

    Raises:
        ValueError: `weight <= 0`, `train_weight < 0`, `recency < 0`, or the two features
            read different tables.

    Example:
        >>> part = ItemItemPart(shared, "user_history", "movie_id", weight=0.5)
        >>> part.set_matrix(fit_item_item(shared, config, train_arrays))
        >>> query = tf.concat([tower_out, part.query_columns(features, training=False)], 1)
    """

    def __init__(
        self,
        shared_embeddings: SharedEmbeddings | dict[str, Any],
        history_feature: str,
        item_feature: str,
        weight: float,
        train_weight: float | None = None,
        recency: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        shared: SharedEmbeddings = (
            # From `get_config()`: a rebuilt part owns a fresh copy of the tables (and zeros).
            tf.keras.layers.deserialize(shared_embeddings)
            if isinstance(shared_embeddings, dict)
            else shared_embeddings
        )
        if not weight > 0 or (train_weight is not None and not train_weight >= 0):
            raise ValueError(
                f"ItemItemPart: weight={weight} must be > 0 and train_weight={train_weight} "
                ">= 0 (None: the same weight)"
            )
        if not recency >= 0:
            raise ValueError(f"ItemItemPart: recency={recency} must be >= 0")
        table = shared.table_name(item_feature)
        if shared.table_name(history_feature) != table:
            raise ValueError(
                f"ItemItemPart: history_feature={history_feature!r} and item_feature="
                f"{item_feature!r} must share one table (got "
                f"{shared.table_name(history_feature)!r} and {table!r})"
            )
        self.shared_embeddings = shared
        self.history_feature = history_feature
        self.item_feature = item_feature
        self.weight = float(weight)
        self.train_weight = None if train_weight is None else float(train_weight)
        self.recency = float(recency)
        #: Columns the part appends to each side: one per row of the item table.
        self.width = shared.num_rows(table)
        self.matrix = self.add_weight(
            name="matrix", shape=(self.width, self.width), initializer="zeros", trainable=False
        )

    def set_matrix(self, matrix: Any) -> None:
        """Sets `W`, `[num_rows, num_rows]` float (`W[c, h]`: history row h's weight in
        candidate row c's score)."""
        shape = (self.width, self.width)
        if tuple(matrix.shape) != shape:
            raise ValueError(
                f"ItemItemPart.set_matrix: expected a {shape} matrix, got {tuple(matrix.shape)}"
            )
        self.matrix.assign(tf.cast(matrix, tf.float32))

    def set_weight(self, weight: float) -> None:
        """Sets the served `weight` (>= 0; 0: the part adds nothing) of a part whose
        training steps leave it out (`train_weight=0`), e.g. one fitted on held-out rows.
        Encoders built afterwards read it."""
        if not weight >= 0 or self.train_weight != 0:
            raise ValueError(
                f"ItemItemPart.set_weight: weight={weight} must be >= 0 and the part left out "
                f"of training steps (train_weight=0, got {self.train_weight})"
            )
        self.weight = float(weight)

    def set_recency(self, recency: float) -> None:
        """Sets `recency` (>= 0) of a part whose training steps leave it out
        (`train_weight=0`), e.g. one fitted on held-out rows. Encoders built afterwards read
        it."""
        if not recency >= 0 or self.train_weight != 0:
            raise ValueError(
                f"ItemItemPart.set_recency: recency={recency} must be >= 0 and the part left "
                f"out of training steps (train_weight=0, got {self.train_weight})"
            )
        self.recency = float(recency)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "shared_embeddings": tf.keras.layers.serialize(self.shared_embeddings),
                "history_feature": self.history_feature,
                "item_feature": self.item_feature,
                "weight": self.weight,
                "train_weight": self.train_weight,
                "recency": self.recency,
            }
        )
        return config

    def weight_in(self, training: bool | None) -> float:
        """The query columns' weight in a call with `training`: `train_weight` (when set) in
        training steps, `weight` otherwise."""
        if training is True and self.train_weight is not None:
            return self.train_weight
        return self.weight

    def columns_in(self, training: bool | None) -> int:
        """How many columns a call with `training` appends: `width`, or none in training
        steps with `train_weight=0`."""
        return 0 if training is True and self.train_weight == 0 else self.width

    def query_columns(
        self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor], training: bool | None
    ) -> tf.Tensor:
        """`weight_in(training)` times `history_weights`, `[batch_size, width]`."""
        return self.history_weights(inputs) * self.weight_in(training)

    def history_weights(self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor]) -> tf.Tensor:
        """`[batch_size, width]`: each history value's weight at its table row (1, or with
        `recency` its recency weight); a value listed twice keeps its larger weight."""
        values = dense_values(inputs[self.history_feature])
        present = padding_mask(values)
        where = tf.where(present)
        # As `FeatureEncoder._pool`: each distinct key is turned into a string and looked up
        # once (a batch's ~100k history values hold ~1.6k distinct movies).
        distinct, positions = tf.unique(tf.gather_nd(values, where), out_idx=tf.int64)
        rows = tf.gather(self.shared_embeddings.lookup(self.history_feature, distinct), positions)
        indices = tf.stack([where[:, 0], rows], axis=1)
        shape = tf.stack([tf.shape(values, out_type=tf.int64)[0], self.width])
        if self.recency:
            # How many values follow each one in its row (0: the latest).
            after = tf.cumsum(tf.cast(present, tf.float32), axis=1, exclusive=True, reverse=True)
            weights = tf.pow(1.0 + tf.gather_nd(after, where), -self.recency)
        else:
            weights = tf.ones_like(where[:, 0], tf.float32)
        return tf.tensor_scatter_nd_max(tf.zeros(shape, tf.float32), indices, weights)

    def candidate_columns(self, inputs: Mapping[str, tf.Tensor | tf.RaggedTensor]) -> tf.Tensor:
        """Each item's row of `W`, `[batch_size, width]` (the weight is on the query side)."""
        keys = tf.reshape(tf.convert_to_tensor(inputs[self.item_feature]), [-1])
        return tf.gather(self.matrix, self.shared_embeddings.lookup(self.item_feature, keys))

    def with_own_item(
        self, query: tf.Tensor, inputs: Mapping[str, tf.Tensor], training: bool | None
    ) -> tf.Tensor:
        """A retrieval `query` whose item-item columns (its last `width`) also hold the row's
        own item (`item_feature` in `inputs`) at `weight_in(training)`.

        A training row's history leaves its own item out; the multi-positive softmax's
        positives are the user's whole history, and a served query reads the whole training
        history, so with the own item in, the constant logits the towers train around are the
        served ones (EASE's zero diagonal keeps an item's own entry out of its score)."""
        rows = self.shared_embeddings.lookup(self.item_feature, inputs[self.item_feature])
        rows = tf.reshape(rows, [-1])
        indices = tf.stack([tf.range(tf.size(rows, out_type=tf.int64)), rows], axis=1)
        fixed = tf.tensor_scatter_nd_max(
            query[:, -self.width :],
            indices,
            tf.fill(tf.shape(rows), tf.constant(self.weight_in(training), query.dtype)),
        )
        return tf.concat([query[:, : -self.width], fixed], axis=1)


def retrieval_embeddings(
    part: ItemItemPart | None,
    side: str,
    inputs: Mapping[str, tf.Tensor | tf.RaggedTensor],
    tower_output: tf.Tensor,
    training: bool | None,
) -> tf.Tensor:
    """A tower's output as retrieval scores it: with `part` (and its columns in this call),
    the part's `side` (`query` or `candidate`) columns appended; else `tower_output` itself."""
    if part is None or not part.columns_in(training):
        return tower_output
    columns = (
        part.query_columns(inputs, training) if side == "query" else part.candidate_columns(inputs)
    )
    return tf.concat([tower_output, columns], axis=-1)
