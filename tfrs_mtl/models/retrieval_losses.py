"""`RetrievalLosses`: the retrieval task's loss on a batch, and its positives' catalogue ranks.

- In-batch softmax (the default): every other row's candidate is a negative. Accidental hits
  are recognised by id, logQ correction (`use_logq_correction`) subtracts the log of each
  item's training frequency, and under a `tf.distribute` strategy the negatives are the whole
  global batch (`cross_replica`).
- Full-catalogue softmax (`use_full_catalogue`): every training item is a negative; with
  `positives_feature` the row's catalogue items from that multi-hot feature are positives
  beside the row's own candidate.

Both read the catalogue through tables built once from the `Catalogue`; so does the
full-catalogue top-k accuracy of evaluation steps (`positive_ranks`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.features import to_key_strings
from tfrs_mtl.features.raw_values import padding_mask
from tfrs_mtl.models import cross_replica
from tfrs_mtl.models.catalogue import Catalogue, row_lookup
from tfrs_mtl.tasks import TaskConfig


class RetrievalLosses(tf.Module):
    """The retrieval losses of one model, over its catalogue tables.

    A `tf.Module`, so that the model tracks the catalogue's lookup table; it holds no
    variable and no layer (the towers and task layers are passed in, and stay the model's).

    Args:
        catalogue: The training items; None when no task needs them (in-batch softmax
            without logQ correction, no top-k accuracy).
        tasks: The model's tasks.
        candidate_id_feature: The batch's candidate id feature.
        candidate_feature_names: The candidate tower's features (the catalogue columns
            it reads).

    Raises:
        ValueError: a task uses the full catalogue or logQ correction without a catalogue.
    """

    def __init__(
        self,
        catalogue: Catalogue | None,
        tasks: Sequence[TaskConfig],
        candidate_id_feature: str,
        candidate_feature_names: Sequence[str],
        name: str = "retrieval_losses",
    ) -> None:
        super().__init__(name=name)
        for task in tasks:
            if (task.use_full_catalogue or task.use_logq_correction) and catalogue is None:
                raise ValueError(
                    f"task {task.name!r}: use_full_catalogue / use_logq_correction need a "
                    "catalogue of training items; build the model with MultiTaskModel.from_data"
                )
        self._candidate_id_feature = candidate_id_feature
        if catalogue is not None:
            self._rows = row_lookup(catalogue.keys, "catalogue_rows")
            self._probabilities = tf.constant(catalogue.probabilities)
            self._features = catalogue.tensors(candidate_feature_names)

    def loss(
        self,
        task: TaskConfig,
        layer: Any,
        features: Mapping[str, tf.Tensor],
        outputs: Mapping[str, Any],
        embed_candidates: Any,
        item_item: Any,
        sample_weight: tf.Tensor | None,
        training: bool,
    ) -> tf.Tensor:
        """The scalar loss of retrieval `task` on a batch.

        Args:
            task: The retrieval task.
            layer: Its `RetrievalTask` layer.
            features: The raw batch (not mutated): its candidate ids, and `positives_feature`.
            outputs: `query_embedding` and `candidate_embedding` `[batch_size, dim]`.
            embed_candidates: `(features, training) -> (tower_output, retrieval_embedding)`
                (`MultiTaskModel.embed_candidates`): embeds the catalogue for the
                full-catalogue softmax.
            item_item: The model's `ItemItemPart`, or None.
            sample_weight: `[batch_size]`, or None.
            training: Passed to `embed_candidates`.
        """
        query, candidate = outputs["query_embedding"], outputs["candidate_embedding"]
        ids = to_key_strings(features[self._candidate_id_feature])
        if task.use_full_catalogue:
            _, catalogue = embed_candidates(self._features, training=training)
            # The item-item part's columns are constants: their logits are computed once.
            fixed = item_item.columns_in(training) if item_item is not None else 0
            rows = self._rows.lookup(ids)
            if task.positives_feature:
                positives = tf.concat(
                    [
                        tf.RaggedTensor.from_tensor(rows[:, tf.newaxis]),
                        self._rows_of(features[task.positives_feature]),
                    ],
                    axis=1,
                )
                if fixed:
                    query = item_item.with_own_item(query, features, training)
                return layer.multi_positive_loss(
                    query, positives, catalogue, sample_weight, fixed_columns=fixed
                )
            return layer.full_catalogue_loss(
                query, candidate, rows, catalogue, sample_weight, fixed_columns=fixed
            )
        probability = None
        if task.use_logq_correction:
            rows = self._rows.lookup(ids)
            known = tf.gather(self._probabilities, tf.maximum(rows, 0))
            rarest = tf.reduce_min(self._probabilities)
            probability = tf.where(rows >= 0, known, rarest)
        # Accidental hits compare ids pairwise ([batch, batch]): 64-bit hashes compare ~10x
        # faster than strings, and a collision is vanishingly rare.
        hashed_ids = tf.strings.to_hash_bucket_fast(ids, np.iinfo(np.int64).max)
        # Under a strategy, the negatives are the whole global batch (no-op on one replica).
        candidate, hashed_ids, probability = cross_replica.gather_candidates(
            (candidate, hashed_ids, probability)
        )
        return layer(
            query,
            candidate,
            candidate_ids=hashed_ids,
            candidate_sampling_probability=probability,
            sample_weight=sample_weight,
        )

    def positive_ranks(
        self, features: Mapping[str, tf.Tensor], outputs: Mapping[str, Any], embed_candidates: Any
    ) -> tf.Tensor:
        """`[batch_size]` int32: how many catalogue items score above each row's positive
        (top-k accuracy counts `rank < k`). Needs the catalogue."""
        query = outputs["query_embedding"]
        positive_scores = tf.reduce_sum(query * outputs["candidate_embedding"], axis=1)
        _, catalogue = embed_candidates(self._features, training=False)
        scores = tf.matmul(query, catalogue, transpose_b=True)
        rows = self._rows.lookup(to_key_strings(features[self._candidate_id_feature]))
        # The positive's own catalogue column is excluded, so round-off cannot rank it twice.
        is_positive = tf.one_hot(tf.cast(rows, tf.int32), tf.shape(catalogue)[0]) > 0.5
        better = tf.logical_and(scores > positive_scores[:, None], ~is_positive)
        return tf.reduce_sum(tf.cast(better, tf.int32), axis=1)

    def _rows_of(self, values: tf.Tensor | tf.RaggedTensor) -> tf.RaggedTensor:
        """Catalogue rows `[batch_size, None]` of a multi-hot id feature (padding removed;
        -1 for ids outside the catalogue)."""
        if not isinstance(values, tf.RaggedTensor):
            values = tf.convert_to_tensor(values)
            values = tf.ragged.boolean_mask(values, padding_mask(values))
        return values.with_flat_values(self._rows.lookup(to_key_strings(values.flat_values)))
