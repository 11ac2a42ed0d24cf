"""`EngagementLoss`: the engagement task's loss on a batch, with its negatives drawn in-step.

For every row (a user and the item they interacted with) the step draws negatives:

* **retrieved**: `num_retrieved_negatives` items, uniformly without replacement, from the
  `retrieved_negatives_pool` catalogue items the model's retrieval score (the towers' dot
  product, as stage 1 serves it) ranks best for the row's query: what stage 1 will hand the
  ranking stage, drawn fresh from the current towers at every step;
* **random**: `num_random_negatives` items uniformly from the catalogue.

The row's own item and the items of the task's `positives_feature` (the user's history) are
never negatives: a retrieved pick among them is replaced by a lower-ranked item, a random
one is given weight 0. The positive and its negatives are then scored by the ranking stack
(`RankingScorer.task_logits`) on the towers' outputs, and `EngagementTask` takes the binary
cross-entropy. The retrieval scores used to draw are constants (no gradient), so retrieval
learns nothing from the drawing itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tfrs_mtl.features import to_key_strings
from tfrs_mtl.features.raw_values import padding_mask
from tfrs_mtl.models.catalogue import Catalogue, row_lookup
from tfrs_mtl.models.feature_dropout import step_seed
from tfrs_mtl.tasks import TaskConfig


class EngagementLoss(tf.Module):
    """The engagement losses of one model, over its catalogue.

    Args:
        catalogue: the training items (None when no engagement task).
        candidate_id_feature: the batch's candidate id feature.
        candidate_feature_names: the candidate tower's features (catalogue columns it reads).
        seed: seeds the draws.

    Raises:
        ValueError: an engagement task without a catalogue.
    """

    def __init__(
        self,
        catalogue: Catalogue | None,
        tasks: tuple[TaskConfig, ...],
        candidate_id_feature: str,
        candidate_feature_names: tuple[str, ...],
        seed: int = 0,
        name: str = "engagement_loss",
    ) -> None:
        super().__init__(name=name)
        engagement = [task.name for task in tasks if task.kind == "engagement"]
        if engagement and catalogue is None:
            raise ValueError(
                f"task(s) {engagement}: engagement negatives are catalogue items; build the "
                "model with MultiTaskModel.from_data (it fits the catalogue)"
            )
        self._candidate_id_feature = candidate_id_feature
        self._seed = seed
        self.num_items = catalogue.num_items if catalogue is not None else 0
        if catalogue is not None and engagement:
            self._rows = row_lookup(catalogue.keys, "engagement_catalogue_rows")
            self._features = catalogue.tensors(candidate_feature_names)

    def loss(
        self,
        task: TaskConfig,
        layer: Any,
        features: Mapping[str, tf.Tensor],
        outputs: Mapping[str, tf.Tensor],
        embed_candidates: Any,
        scorer: Any,
        sample_weight: tf.Tensor | None,
        training: bool,
        step: tf.Tensor,
    ) -> tf.Tensor:
        """The scalar engagement loss of `task` on a batch.

        Args:
            task: the engagement task.
            layer: its `EngagementTask`.
            features: the raw batch: its candidate ids and `task.positives_feature`.
            outputs: `query_embedding` (the retrieval query, `[batch_size, dim]`) and
                `ranking_query_embedding`, `ranking_candidate_embedding` (what the ranking
                stack reads, `[batch_size, ranking_dim]`).
            embed_candidates: `(features, training) -> (tower_output, retrieval_embedding)`
                (`MultiTaskModel.embed_candidates`): embeds the catalogue.
            scorer: the model's `RankingScorer`.
            sample_weight: `[batch_size]` (e.g. the click label: which rows are positives),
                or None.
            training: passed to `embed_candidates` and the scorer.
            step: the optimizer step (keys the draws).
        """
        ranked_catalogue, catalogue = embed_candidates(self._features, training=training)
        rows, valid = self.draw_negatives(
            task, features, outputs["query_embedding"], catalogue, step
        )
        candidates = tf.concat(
            [
                outputs["ranking_candidate_embedding"][:, tf.newaxis, :],
                tf.gather(ranked_catalogue, rows),
            ],
            axis=1,
        )
        ranked_query = outputs["ranking_query_embedding"]
        pairs = tf.shape(candidates)[1]
        width = tf.shape(ranked_query)[1]
        logits = scorer.task_logits(
            task.name,
            self._pair_features(scorer, features, rows),
            tf.reshape(tf.repeat(ranked_query[:, tf.newaxis, :], pairs, axis=1), [-1, width]),
            tf.reshape(candidates, [-1, width]),
            training=training,
        )
        batch_size = tf.shape(ranked_query)[0]
        weights = tf.cast(tf.concat([tf.ones([batch_size, 1], tf.bool), valid], axis=1), tf.float32)
        if sample_weight is not None:
            weights *= tf.cast(tf.reshape(sample_weight, [-1, 1]), tf.float32)
        return layer(tf.reshape(logits, [batch_size, -1]), weights)

    def _pair_features(
        self, scorer: Any, features: Mapping[str, tf.Tensor], rows: tf.Tensor
    ) -> dict[str, tf.Tensor]:
        """The ranking-only features of each row's `1 + num_negatives` pairs, flattened as
        the pairs are (row-major): a query feature repeated, a candidate feature the row's
        own value then the negatives' catalogue values."""
        if scorer.ranking_encoder is None:
            return {}
        pairs: dict[str, tf.Tensor] = {}
        count = tf.shape(rows)[1] + 1
        for feature in scorer.ranking_encoder.features:
            values = tf.convert_to_tensor(features[feature.name])
            if feature.side == "query":
                pairs[feature.name] = tf.repeat(values, count, axis=0)
                continue
            drawn = tf.gather(self._features[feature.name], rows)
            both = tf.concat([values[:, tf.newaxis], tf.cast(drawn, values.dtype)], axis=1)
            pairs[feature.name] = tf.reshape(both, tf.concat([[-1], tf.shape(values)[1:]], axis=0))
        return pairs

    def draw_negatives(
        self,
        task: TaskConfig,
        features: Mapping[str, tf.Tensor],
        query: tf.Tensor,
        catalogue: tf.Tensor,
        step: tf.Tensor,
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """Each row's negatives: `num_retrieved_negatives` then `num_random_negatives`.

        Args:
            task: the engagement task.
            features: the raw batch (its candidate ids and `task.positives_feature`).
            query: `[batch_size, dim]` the retrieval query embeddings.
            catalogue: `[num_items, dim]` the candidate tower's embeddings of the catalogue.
            step: the optimizer step (keys the draws).

        Returns:
            `(rows [batch_size, num_negatives] int64 catalogue rows, usable [batch_size,
            num_negatives] bool)`: a draw is unusable when it is a positive of the row (a
            random pick) or when fewer items than asked remain outside the positives.
        """
        batch_size = tf.shape(query)[0]
        own = self._rows.lookup(to_key_strings(features[self._candidate_id_feature]))
        excluded = self._excluded(features, task, own, batch_size)
        negatives, usable = [], []
        if task.num_retrieved_negatives:
            scores = tf.stop_gradient(tf.matmul(query, catalogue, transpose_b=True))
            rows, found = self._retrieved(task, scores, excluded, self._draw_seed(0, step))
            negatives.append(rows)
            usable.append(found)
        if task.num_random_negatives:
            rows = tf.random.stateless_uniform(
                [batch_size, task.num_random_negatives],
                seed=self._draw_seed(1, step),
                minval=0,
                maxval=self.num_items,
                dtype=tf.int64,
            )
            negatives.append(rows)
            usable.append(~tf.gather(excluded, rows, batch_dims=1))
        return tf.concat(negatives, axis=1), tf.concat(usable, axis=1)

    def _draw_seed(self, stream: int, step: tf.Tensor) -> tf.Tensor:
        # Streams apart from the feature dropout's (seed * 1000 + feature position).
        return step_seed(self._seed * 1_000 + 900 + stream, step)

    def _excluded(
        self, features: Mapping[str, tf.Tensor], task: TaskConfig, own: tf.Tensor, batch_size: Any
    ) -> tf.Tensor:
        """`[batch_size, num_items]` bool: the row's own item and its `positives_feature`."""
        row_ids = tf.range(batch_size, dtype=tf.int64)
        indices = [tf.stack([row_ids, own], axis=1)]
        if task.positives_feature:
            values = tf.convert_to_tensor(features[task.positives_feature])
            ragged = tf.ragged.boolean_mask(values, padding_mask(values))
            items = self._rows.lookup(to_key_strings(ragged.flat_values))
            rows = tf.cast(ragged.value_rowids(), tf.int64)
            indices.append(tf.stack([rows, items], axis=1))
        indices = tf.concat(indices, axis=0)
        indices = tf.boolean_mask(indices, indices[:, 1] >= 0)  # ids outside the catalogue
        return (
            tf.scatter_nd(
                indices,
                tf.ones(tf.shape(indices)[:1], tf.int32),
                tf.cast(tf.stack([batch_size, self.num_items]), tf.int64),
            )
            > 0
        )

    def _retrieved(
        self, task: TaskConfig, scores: tf.Tensor, excluded: tf.Tensor, seed: tf.Tensor
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`num_retrieved_negatives` rows per query from its best `retrieved_negatives_pool`,
        and whether each is a usable negative."""
        pool = min(task.retrieved_negatives_pool, self.num_items)
        count = min(task.num_retrieved_negatives, pool)
        masked = tf.where(excluded, tf.constant(-float("inf"), scores.dtype), scores)
        best, rows = tf.math.top_k(masked, k=pool)
        draw = tf.random.stateless_uniform(tf.shape(best), seed=seed)
        _, picks = tf.math.top_k(draw, k=count)
        found = tf.gather(best, picks, batch_dims=1) > -float("inf")
        return tf.cast(tf.gather(rows, picks, batch_dims=1), tf.int64), found
