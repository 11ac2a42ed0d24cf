"""`MultiTaskModel`: shared embeddings, two towers, a ranking stack and every task's loss.

One `SharedEmbeddings` owns each table once; the query and candidate towers read it; the
retrieval task scores tower outputs against each other; the ranking tasks score (query,
candidate) pairs through the ranking stack on top of the same towers; attribute and interest
tasks read one tower's output. `compute_loss` combines the task losses through the configured
`LossWeighting`, never mutates its input, and computes full-catalogue top-k accuracy only in
evaluation steps. GradNorm and PCGrad need per-task gradients, hence their own train steps
(`training_steps`); the retrieval losses (`retrieval_losses`), the labels' encoding
(`task_labels`) and the towers' input dropout (`feature_dropout`) have modules of their own.

Example:
    >>> config = movielens_config()
    >>> model = MultiTaskModel.from_data(config, train_arrays)
    >>> model.compile(optimizer=tf.keras.optimizers.Adam(config.learning_rate))
    >>> history = model.fit(build_dataset(train_arrays, 4096), epochs=3)
    >>> history.history["rating/rmse"], history.history["rating/weight"]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from tfrs_mtl.features import FeatureVocabularies, SharedEmbeddings
from tfrs_mtl.layers import (
    CandidateTower,
    ItemItemPart,
    QueryTower,
    TaskHead,
    retrieval_embeddings,
)
from tfrs_mtl.models import model_files, training_steps
from tfrs_mtl.models.catalogue import Catalogue
from tfrs_mtl.models.catalogue_attributes import CatalogueAttributes, catalogue_label_keys
from tfrs_mtl.models.divergence import StopOnNonFiniteLoss
from tfrs_mtl.models.engagement_loss import EngagementLoss
from tfrs_mtl.models.feature_dropout import TowerInputDropout
from tfrs_mtl.models.item_item import fit_item_item
from tfrs_mtl.models.multitask_config import MultiTaskConfig
from tfrs_mtl.models.ranking_scorer import RankingScorer
from tfrs_mtl.models.retrieval_losses import RetrievalLosses
from tfrs_mtl.models.serving_views import ServingViews
from tfrs_mtl.models.task_labels import TaskLabels
from tfrs_mtl.models.task_layers import build_task_layer, head_width
from tfrs_mtl.models.task_statistics import TaskStatistics
from tfrs_mtl.tasks import (
    LossWeightingCallback,
    TaskConfig,
    build_loss_weighting,
    combine_losses,
)


class MultiTaskModel(ServingViews, tfrs.models.Model):
    """A multi-task recommender built from one `MultiTaskConfig`.

    Args:
        config: The frozen model description.
        vocabularies: Vocabularies fitted on training data (`FeatureVocabularies.fit`).
        task_statistics: Label vocabularies / statistics fitted on training data.
        catalogue: Training items with their features and frequencies; needed by
            full-catalogue retrieval, logQ correction and evaluation top-k accuracy.

    Use `from_data` to fit all three on training arrays.
    """

    def __init__(
        self,
        config: MultiTaskConfig,
        vocabularies: FeatureVocabularies,
        task_statistics: TaskStatistics | None = None,
        catalogue: Catalogue | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._config = config
        self._vocabularies = vocabularies
        self.task_statistics = task_statistics or TaskStatistics()
        self.catalogue = catalogue
        self.retrieval_losses = RetrievalLosses(
            catalogue,
            config.tasks,
            config.candidate_id_feature,
            [f.name for f in config.features.candidate_features],
        )
        self.engagement_loss = EngagementLoss(
            catalogue,
            config.tasks,
            config.candidate_id_feature,
            tuple(f.name for f in config.features.candidate_features),
            seed=config.seed,
        )
        self.catalogue_attributes = CatalogueAttributes(
            catalogue,
            config.tasks,
            [f.name for f in config.features.candidate_features],
        )
        self.shared_embeddings = SharedEmbeddings(
            config.features, vocabularies, name="shared_embeddings"
        )
        self.query_tower = QueryTower(
            self.shared_embeddings,
            **config.query_tower.to_dict(),
            name="query_tower",
        )
        self.candidate_tower = CandidateTower(
            self.shared_embeddings,
            **config.candidate_tower.to_dict(),
            id_feature=config.candidate_id_feature,
            name="candidate_tower",
        )
        # The fixed item-item part of the retrieval score, beside the towers (its matrix is
        # set by `from_data`); the ranking stack and the attribute heads never read it.
        self.item_item = (
            ItemItemPart(
                self.shared_embeddings,
                history_feature=str(config.query_tower.identity_feature),
                item_feature=config.candidate_id_feature,
                weight=config.item_item_weight,
                train_weight=config.item_item_train_weight,
                recency=config.item_item_recency,
                name="item_item",
            )
            if config.item_item_weight > 0
            else None
        )
        self.ranking_scorer = (
            RankingScorer(
                config.ranking_tasks,
                config.experts,
                config.interaction,
                self.shared_embeddings,
                config.query_id_feature,
                config.candidate_id_feature,
                label_means=self.task_statistics.label_means,
                name="ranking_scorer",
            )
            if config.ranking_tasks
            else None
        )
        self.side_heads = {
            task.name: TaskHead(
                hidden_dims=task.head.hidden_dims,
                output_dim=head_width(task, self.task_statistics),
                activation=task.head.activation,
                dropout=task.head.dropout,
                name=f"head_{task.name}",
            )
            for task in config.tasks
            if task.kind in ("attribute", "interest")
        }
        # Embeddings of the source tower's id that only one head reads (private capacity).
        # Zeros at first: a row the head's loss never reaches (an item whose attributes are
        # held out, or new) adds nothing, where a random row would add noise.
        self.private_embeddings = {
            task.name: tf.keras.layers.Embedding(
                self.shared_embeddings.num_rows(
                    self.shared_embeddings.table_name(self._source_id_feature(task))
                ),
                task.private_embedding_dim,
                embeddings_initializer="zeros",
                name=f"private_{task.name}",
            )
            for task in config.tasks
            if task.name in self.side_heads and task.private_embedding_dim > 0
        }
        self.task_layers = {
            task.name: build_task_layer(task, self.task_statistics) for task in config.tasks
        }
        self.loss_weighting = build_loss_weighting(config.weighting, config.tasks)
        self.loss_trackers = {
            task.name: tf.keras.metrics.Mean(name=f"{task.name}/loss") for task in config.tasks
        }
        # Epoch means of the combined losses (a plain tensor would report the last batch).
        self.total_trackers = {
            name: tf.keras.metrics.Mean(name=name)
            for name in ("loss", "regularization_loss", "total_loss")
        }
        self._input_dropout = TowerInputDropout(config.features, config.seed)
        retrieval = [task for task in config.tasks if task.kind == "retrieval"]
        # String keys: Keras checkpoints only track dicts keyed by strings.
        self.top_k_trackers = {
            str(k): tf.keras.metrics.Mean(name=f"{retrieval[0].name}/top_{k}_accuracy")
            for k in config.eval_top_k
            if retrieval and catalogue is not None
        }
        self._labels = TaskLabels(self.task_statistics.label_vocabularies)
        # Create every variable now (Dense layers build on first call): the variable list is
        # complete from the start, and compiled steps trace once instead of twice.
        self.task_outputs(model_files.placeholder_batch(self), training=False)

    @property
    def default_blend(self) -> dict[str, float] | None:
        """The blend of the served score fitted for this model (`tfrs_mtl.serving.blend`,
        e.g. by `tfrs_mtl.experiments` on a validation carve-out), saved with it; None
        until set (serving then orders by the retrieval score alone)."""
        blend = self.__dict__.get("_default_blend")
        return dict(blend) if blend else None

    @default_blend.setter
    def default_blend(self, blend: Mapping[str, float] | None) -> None:
        # Kept outside Keras attribute tracking: a plain dict of floats, saved as JSON.
        self.__dict__["_default_blend"] = dict(blend) if blend else None

    # ----- construction -------------------------------------------------------------------

    @classmethod
    def from_data(
        cls, config: MultiTaskConfig, train_arrays: Mapping[str, np.ndarray], **kwargs: Any
    ) -> MultiTaskModel:
        """Fits vocabularies, label statistics and the catalogue on TRAINING arrays only
        (`fit_inputs`), then builds the model; with `config.item_item_weight`, also the
        item-item matrix (`fit_item_item`)."""
        model = cls(config, *cls.fit_inputs(config, train_arrays), **kwargs)
        if model.item_item is not None:
            model.item_item.set_matrix(fit_item_item(model.shared_embeddings, config, train_arrays))
        return model

    @staticmethod
    def fit_inputs(
        config: MultiTaskConfig, train_arrays: Mapping[str, np.ndarray]
    ) -> tuple[FeatureVocabularies, TaskStatistics, Catalogue]:
        """What a model is built from, fitted on TRAINING arrays only: the vocabularies, the
        tasks' label statistics and the catalogue (`MultiTaskModel(config, *fitted)`)."""
        vocabularies = FeatureVocabularies.fit(config.features, train_arrays)
        statistics = TaskStatistics.fit(config.tasks, train_arrays)
        catalogue = Catalogue.from_arrays(
            train_arrays,
            config.candidate_id_feature,
            [f.name for f in config.features.candidate_features],
            label_keys=catalogue_label_keys(config.tasks),
        )
        return vocabularies, statistics, catalogue

    # ----- forward passes -----------------------------------------------------------------

    def task_outputs(
        self,
        features: Mapping[str, tf.Tensor],
        training: bool = False,
        tower_features: Mapping[str, tf.Tensor] | None = None,
    ) -> dict[str, tf.Tensor]:
        """Every task's prediction on a raw feature dict (not mutated).

        Args:
            features: the raw feature dict.
            training: enables dropout.
            tower_features: what the towers read instead of `features` (training steps
                pass the batch after `FeatureConfig.dropout`); the rating biases read
                `features`, and so do the towers feeding the ranking stack unless
                `config.ranking_reads_dropout`.

        Returns:
            `query_embedding` and `candidate_embedding` `[batch_size, dim]`, what retrieval
            scores (the towers' outputs, then the item-item part's columns when the model
            has one and the call includes it); with ranking tasks, `ranking_query_embedding`
            and `ranking_candidate_embedding`, what the ranking stack read; per ranking task
            its score `[batch_size]`; per attribute / interest task its logits
            `[batch_size, num_classes]` (or `[batch_size]` for regression).
        """
        towers_read = features if tower_features is None else tower_features
        query = self.query_tower(towers_read, training=training)
        candidate = self.candidate_tower(towers_read, training=training)
        # Retrieval scores the towers with the item-item part; the ranking stack and the
        # attribute heads read the towers alone.
        outputs = {
            "query_embedding": self.retrieval_embedding("query", towers_read, query, training),
            "candidate_embedding": self.retrieval_embedding(
                "candidate", towers_read, candidate, training
            ),
        }
        if self.ranking_scorer is not None:
            ranked_query, ranked_candidate = query, candidate
            dropped = tower_features is not None and tower_features is not features
            if dropped and not self._config.ranking_reads_dropout:
                # The ranking stack reads the towers on the full features (FeatureConfig.dropout
                # regularises retrieval); a side whose features lost nothing is reused.
                if self._input_dropout.drops_side["query"]:
                    ranked_query = self.query_tower(features, training=training)
                if self._input_dropout.drops_side["candidate"]:
                    ranked_candidate = self.candidate_tower(features, training=training)
            outputs["ranking_query_embedding"] = ranked_query
            outputs["ranking_candidate_embedding"] = ranked_candidate
            outputs.update(
                self.ranking_scorer(features, ranked_query, ranked_candidate, training=training)
            )
        for task in self._config.tasks:
            if task.name in self.side_heads:
                source = query if task.source_side == "query" else candidate
                outputs[task.name] = self.side_head_logits(task, towers_read, source, training)
        return outputs

    def retrieval_embedding(
        self,
        side: str,
        features: Mapping[str, tf.Tensor],
        tower_output: tf.Tensor,
        training: bool | None = False,
    ) -> tf.Tensor:
        """`side`'s (`query` / `candidate`) tower output as retrieval scores it: with the
        item-item part, its columns appended (`tfrs_mtl.layers.item_item_part`)."""
        return retrieval_embeddings(self.item_item, side, features, tower_output, training)

    def embed_candidates(
        self, features: Mapping[str, tf.Tensor], training: bool | None = False
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`(tower_output, retrieval_embedding)` of candidate `features`: what the ranking
        stack reads and what retrieval scores."""
        tower_output = self.candidate_tower(features, training=training)
        return tower_output, self.retrieval_embedding("candidate", features, tower_output, training)

    def _embed_retrieval_candidates(
        self, features: Mapping[str, tf.Tensor], training: bool | None = False
    ) -> tuple[tf.Tensor, tf.Tensor]:
        """`embed_candidates` of the catalogue the retrieval softmax scores: in training
        steps the candidate tower reads it after `FeatureConfig.dropout` too, so that an item
        whose id is dropped (the OOV row, what an item unseen in training reads) is scored
        as a candidate of the softmax, not only as a row of the batch."""
        dropped = self._input_dropout.catalogue(
            features, bool(training), getattr(self, "optimizer", None)
        )
        return self.embed_candidates(dropped, training)

    def side_head_logits(
        self,
        task: TaskConfig,
        features: Mapping[str, tf.Tensor],
        tower_output: tf.Tensor,
        training: bool = False,
        head_only: bool = False,
    ) -> tf.Tensor:
        """An attribute / interest task's logits `[batch_size, num_classes]` (`[batch_size]`
        for regression) from its source tower's output on `features`.

        With `task.head_input="tower_and_features"` the head also reads the tower's encoded
        `features` (what the tower read to give `tower_output`), and with
        `task.private_embedding_dim` its own embedding of the source's id in `features`.
        With `head_only`, gradients stop at the tower output and the shared rows (the
        head and its private embedding alone learn from these logits).
        """
        tower = self.query_tower if task.source_side == "query" else self.candidate_tower
        source = tower_output
        if task.head_input == "tower_and_features":
            source = tf.concat([source, tower.encoder(features)], axis=-1)
        if head_only:
            source = tf.stop_gradient(source)
        if task.name in self.private_embeddings:
            id_feature = self._source_id_feature(task)
            rows = self.shared_embeddings.lookup(id_feature, features[id_feature])
            source = tf.concat([source, self.private_embeddings[task.name](rows)], axis=-1)
        logits = self.side_heads[task.name](source, training=training)
        if task.kind == "attribute" and task.target == "regression":
            logits = tf.squeeze(logits, axis=-1)
        return logits

    def _source_id_feature(self, task: TaskConfig) -> str:
        """The id feature of the tower `task` predicts from."""
        if task.source_side == "query":
            return self._config.query_id_feature
        return self._config.candidate_id_feature

    def task_losses(
        self, features: Mapping[str, tf.Tensor], training: bool = False
    ) -> dict[str, tf.Tensor]:
        """Each task's unweighted scalar loss (and its `<task>/loss` metric)."""
        # In training steps the towers read the batch after `FeatureConfig.dropout`.
        tower_features = self._input_dropout(features, training, getattr(self, "optimizer", None))
        outputs = self.task_outputs(features, training=training, tower_features=tower_features)
        items = self.catalogue_attributes.features
        # Item-attribute tasks with loss_over="batch_and_catalogue" add a catalogue term; the
        # tower and heads read the catalogue after `FeatureConfig.dropout`, as they read the
        # batch (the labels read it whole).
        tower_items: Mapping[str, Any] = items
        catalogue_items = None
        if training and self.catalogue_attributes:
            tower_items = self._input_dropout.catalogue(
                items, training, getattr(self, "optimizer", None)
            )
            catalogue_items = self.candidate_tower(tower_items, training=training)
        losses: dict[str, tf.Tensor] = {}
        for task in self._config.tasks:
            weight = (
                tf.cast(features[task.sample_weight_key], tf.float32)
                if task.sample_weight_key
                else None
            )
            layer: Any = self.task_layers[task.name]
            if task.kind == "retrieval":
                loss = self.retrieval_losses.loss(
                    task,
                    layer,
                    features,
                    outputs,
                    self._embed_retrieval_candidates,
                    self.item_item,
                    weight,
                    training,
                )
            elif task.kind == "engagement":
                loss = self.engagement_loss.loss(
                    task,
                    layer,
                    features,
                    outputs,
                    self.embed_candidates,
                    self.ranking_scorer,
                    weight,
                    training,
                    step=self._step(),
                )
            else:
                loss = layer(self._labels(task, features), outputs[task.name], weight)
            if catalogue_items is not None and task.trains_on_catalogue:
                logits = self.side_head_logits(
                    task, tower_items, catalogue_items, training, head_only=True
                )
                item_weight = (
                    tf.cast(items[task.sample_weight_key], tf.float32)
                    if task.sample_weight_key
                    else None
                )
                loss += layer(self._labels(task, items), logits, item_weight, compute_metrics=False)
            self.loss_trackers[task.name].update_state(loss)
            losses[task.name] = loss
        if not training:
            self._update_top_k(features, outputs)
        return losses

    def _step(self) -> tf.Tensor:
        """The optimizer's step (0 before compiling): keys the steps' random draws."""
        optimizer = getattr(self, "optimizer", None)
        return optimizer.iterations if optimizer is not None else tf.constant(0, tf.int64)

    def _update_top_k(self, features: Mapping[str, tf.Tensor], outputs: Mapping[str, Any]) -> None:
        """Full-catalogue top-k accuracy: is the positive among the k best-scored items?"""
        if not self.top_k_trackers:
            return
        rank = self.retrieval_losses.positive_ranks(features, outputs, self.embed_candidates)
        for k, tracker in self.top_k_trackers.items():
            tracker.update_state(tf.cast(rank < int(k), tf.float32))

    def weighted_losses(
        self, features: Mapping[str, tf.Tensor], training: bool = False
    ) -> tuple[dict[str, tf.Tensor], dict[str, tf.Tensor]]:
        """`(losses, weighted_terms)`: unweighted task losses and their weighted terms."""
        losses = self.task_losses(features, training=training)
        return losses, self.loss_weighting(losses)

    def compute_loss(self, inputs: Mapping[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        """The combined loss: the sum of the weighted task terms. Does not mutate `inputs`."""
        _, terms = self.weighted_losses(inputs, training=training)
        return combine_losses(terms)

    def regularization_loss(self) -> tf.Tensor:
        return tf.add_n(self.losses) if self.losses else tf.constant(0.0)

    # ----- training -----------------------------------------------------------------------

    def shared_layer_variables(self) -> list[tf.Variable]:
        """The last layer every task shares: both towers' output kernels (for GradNorm)."""
        return [
            variable
            for tower in (self.query_tower, self.candidate_tower)
            for variable in tower.projection.trainable_variables
            if "output" in variable.name and "kernel" in variable.name
        ]

    def step_logs(
        self, loss: tf.Tensor, regularization_loss: tf.Tensor, training: bool
    ) -> dict[str, tf.Tensor]:
        self.total_trackers["loss"].update_state(loss)
        self.total_trackers["regularization_loss"].update_state(regularization_loss)
        self.total_trackers["total_loss"].update_state(loss + regularization_loss)
        top_k = {id(tracker) for tracker in self.top_k_trackers.values()}
        logs = {
            metric.name: metric.result()
            for metric in self.metrics
            if not (training and id(metric) in top_k)
        }
        logs.update({f"{name}/weight": w for name, w in self.loss_weighting.task_weights().items()})
        return logs

    # The steps hold no tensor-dependent Python control flow, so AutoGraph has nothing to
    # convert; skipping its source transformation cuts the first-epoch tracing time ~5x.
    @tf.autograph.experimental.do_not_convert
    def train_step(self, inputs: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        if self._config.weighting.method == "gradnorm":
            return training_steps.gradnorm_step(self, inputs)
        if self._config.weighting.use_pcgrad:
            return training_steps.pcgrad_step(self, inputs)
        return training_steps.weighted_sum_step(self, inputs)

    @tf.autograph.experimental.do_not_convert
    def test_step(self, inputs: Mapping[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        loss = self.compute_loss(inputs, training=False)
        regularization_loss = self.regularization_loss()
        return self.step_logs(loss, regularization_loss, training=False)

    def fit(self, *args: Any, callbacks: Any = None, **kwargs: Any) -> Any:
        """`tf.keras.Model.fit`, with a `LossWeightingCallback` (epoch-based weights) and a
        `StopOnNonFiniteLoss` (raises `TrainingDivergedError` on a NaN/inf loss) added."""
        callbacks = list(callbacks or [])
        if not any(isinstance(callback, LossWeightingCallback) for callback in callbacks):
            callbacks.append(LossWeightingCallback())
        if not any(isinstance(callback, StopOnNonFiniteLoss) for callback in callbacks):
            callbacks.append(StopOnNonFiniteLoss())
        return super().fit(*args, callbacks=callbacks, **kwargs)

    def compile(self, *args: Any, **kwargs: Any) -> None:
        """`tf.keras.Model.compile`; also creates the optimizer's slots, so that the first
        compiled step creates no variable (which would make TensorFlow trace it twice)."""
        super().compile(*args, **kwargs)
        if hasattr(self.optimizer, "build"):
            self.optimizer.build(self.trainable_variables)

    def compile_default(self, **kwargs: Any) -> None:
        """Compiles with Adam at `config.learning_rate`."""
        self.compile(optimizer=tf.keras.optimizers.Adam(self._config.learning_rate), **kwargs)

    # ----- persistence --------------------------------------------------------------------

    def save_model(self, path: str | Path) -> None:
        """Writes config, vocabularies, task statistics, catalogue and weights to `path`."""
        model_files.save(self, Path(path))

    @classmethod
    def load_model(cls, path: str | Path) -> MultiTaskModel:
        """Rebuilds a model saved by `save_model`; it predicts exactly as the saved one."""
        return model_files.load(cls, Path(path))
