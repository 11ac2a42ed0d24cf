"""`RankingScorer`: the tower outputs of (query, candidate) pairs -> one score per ranking task.

`PairInteraction` builds the pair features, the ranking stack (shared-bottom, MMoE or PLE)
gives each task its representation, and a head per task gives its output: a rating
(+ optional global/user/item biases) or a probability. A binary task `conditioned_on` another
forms an ESMM cascade (Ma et al., SIGIR 2018): its head predicts p(task | parent) and its
score is `p(parent) * p(task | parent)`, so `p(purchase) <= p(click)` by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import tensorflow as tf

from tfrs_mtl.features import FeatureEncoder, SharedEmbeddings
from tfrs_mtl.layers import (
    EsmmCascade,
    ExpertsConfig,
    InteractionConfig,
    PairInteraction,
    TaskHead,
    build_ranking_stack,
)
from tfrs_mtl.tasks import RatingBias, TaskConfig


class RankingScorer(tf.keras.layers.Layer):
    """Scores (query, candidate) pairs for every ranking task.

    Args:
        tasks: The ranking tasks (`rating` and `binary`), in output order.
        experts: The ranking stack.
        interaction: The pair interaction.
        shared_embeddings: The model's tables (rating biases look ids up in them).
        label_means: Task -> mean training label; a rating's global bias starts there.
        query_id_feature: Feature holding the user id (user bias).
        candidate_id_feature: Feature holding the item id (item bias).

    Not serializable on its own: `MultiTaskModel` rebuilds it from its config.
    """

    def __init__(
        self,
        tasks: tuple[TaskConfig, ...],
        experts: ExpertsConfig,
        interaction: InteractionConfig,
        shared_embeddings: SharedEmbeddings,
        query_id_feature: str,
        candidate_id_feature: str,
        label_means: Mapping[str, float] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tasks = tuple(tasks)
        self.query_id_feature = query_id_feature
        self.candidate_id_feature = candidate_id_feature
        self.shared_embeddings = shared_embeddings
        names = tuple(task.name for task in self.tasks)
        self.interaction = PairInteraction(**interaction.to_dict(), name="pair_interaction")
        # The spec's ranking-only features (e.g. a price), read beside the pair's towers.
        ranking_features = tuple(f.name for f in shared_embeddings.spec.ranking_features)
        self.ranking_feature_names = ranking_features
        self.ranking_encoder = (
            FeatureEncoder(
                shared_embeddings, feature_names=ranking_features, name="ranking_features"
            )
            if ranking_features
            else None
        )
        self.stack = build_ranking_stack(experts, names, name="ranking_stack")
        self.cascade = EsmmCascade(name="esmm_cascade")
        self.heads = {
            task.name: TaskHead(
                hidden_dims=task.head.hidden_dims,
                output_dim=1,
                activation=task.head.activation,
                dropout=task.head.dropout,
                name=f"head_{task.name}",
            )
            for task in self.tasks
        }
        user_table = shared_embeddings.table_name(query_id_feature)
        item_table = shared_embeddings.table_name(candidate_id_feature)
        self.biases = {
            task.name: RatingBias(
                num_users=shared_embeddings.num_rows(user_table) if task.use_user_bias else 0,
                num_items=shared_embeddings.num_rows(item_table) if task.use_item_bias else 0,
                use_global_bias=task.use_global_bias,
                initial_global_bias=(label_means or {}).get(task.name, 0.0),
                name=f"bias_{task.name}",
            )
            for task in self.tasks
            if task.kind == "rating"
            and (task.use_global_bias or task.use_user_bias or task.use_item_bias)
        }

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(task.name for task in self.tasks)

    def pair_features(
        self,
        features: Mapping[str, tf.Tensor],
        query_embeddings: tf.Tensor,
        candidate_embeddings: tf.Tensor,
    ) -> tf.Tensor:
        """What the ranking stack reads of each pair `[batch_size, width]`: the towers'
        interaction, and the encoded ranking-only features (read from `features`)."""
        pair = self.interaction([query_embeddings, candidate_embeddings])
        if self.ranking_encoder is None:
            return pair
        return tf.concat([pair, self.ranking_encoder(features)], axis=-1)

    def task_logits(
        self,
        task_name: str,
        features: Mapping[str, tf.Tensor],
        query_embeddings: tf.Tensor,
        candidate_embeddings: tf.Tensor,
        training: bool | None = None,
    ) -> tf.Tensor:
        """One task's head output `[batch_size]` (a logit for binary and engagement tasks)
        on pairs of tower outputs `[batch_size, dim]` (and the pairs' ranking-only
        `features`), without biases or cascade: what the engagement loss scores its
        positives and negatives with."""
        pair = self.pair_features(features, query_embeddings, candidate_embeddings)
        representations = self.stack(pair, training=training)
        head = self.heads[task_name]
        return tf.squeeze(head(representations[task_name], training=training), axis=-1)

    def call(
        self,
        features: Mapping[str, tf.Tensor],
        query_embeddings: tf.Tensor,
        candidate_embeddings: tf.Tensor,
        training: bool | None = None,
    ) -> dict[str, tf.Tensor]:
        """Scores each pair.

        Args:
            features: The raw feature dict (the id features, for biases, and the
                ranking-only features).
            query_embeddings: `[batch_size, dim]` query tower output.
            candidate_embeddings: `[batch_size, dim]` candidate tower output.
            training: Enables dropout.

        Returns:
            Task name -> `[batch_size]`: the rating for `rating` tasks, the probability for
            `binary` tasks (`p(parent) * p(task | parent)` when conditioned).
        """
        pair = self.pair_features(features, query_embeddings, candidate_embeddings)
        representations = self.stack(pair, training=training)
        outputs = {
            task.name: tf.squeeze(
                self.heads[task.name](representations[task.name], training=training), axis=-1
            )
            for task in self.tasks
        }
        scores: dict[str, tf.Tensor] = {}
        for task in self.tasks:
            output = outputs[task.name]
            if task.kind == "rating":
                if task.name in self.biases:
                    output += self.biases[task.name](
                        self.shared_embeddings.lookup(
                            self.query_id_feature, features[self.query_id_feature]
                        ),
                        self.shared_embeddings.lookup(
                            self.candidate_id_feature, features[self.candidate_id_feature]
                        ),
                    )
                scores[task.name] = output
            elif task.conditioned_on is not None:
                cascade = self.cascade((outputs[task.conditioned_on], output))
                scores[task.name] = cascade["p_ctcvr"]
            else:
                scores[task.name] = tf.sigmoid(output)
        return scores
