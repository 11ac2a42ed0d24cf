"""`MultiTaskConfig`: one frozen config describing a whole multi-task model.

It composes the feature spec (`tfrs_mtl.features`), the towers, pair interaction, ranking
stack (`tfrs_mtl.layers`) and the tasks and loss weighting (`tfrs_mtl.tasks`). A model is this
config plus its fitted vocabularies plus its weights. `validate()` checks the parts together:
unique task names, id features on the right side, ESMM parents, and the leakage guard (an
attribute must not be an input of the tower it is predicted from).
"""

from __future__ import annotations

import dataclasses

from tfrs_mtl.config import Config, require
from tfrs_mtl.features import FeatureSpec
from tfrs_mtl.features.feature_encoder import feature_output_dim
from tfrs_mtl.layers.configs import ExpertsConfig, InteractionConfig, TowerConfig
from tfrs_mtl.tasks import TaskConfig, WeightingConfig, check_attribute_leakage


@dataclasses.dataclass(frozen=True)
class MultiTaskConfig(Config):
    """Everything that defines a `MultiTaskModel` except data-fitted state and weights.

    Attributes:
        features: The raw features and the tower each feeds.
        tasks: The tasks, each keyed by its name.
        query_tower: MLP of the query tower.
        candidate_tower: MLP of the candidate tower (same `output_dim` as the query tower).
        interaction: How a (query, candidate) pair feeds the ranking stack.
        experts: The ranking stack shared by ranking tasks (`shared_bottom`, `mmoe`, `ple`).
        weighting: How task losses combine.
        query_id_feature: The query id feature (e.g. `user_id`); user biases read it.
        candidate_id_feature: The candidate id feature (e.g. `movie_id`, `item_id`).
        eval_top_k: Cutoffs of the full-catalogue top-k accuracy computed in evaluation
            steps (never in training steps); empty disables it.
        learning_rate: Adagrad/Adam learning rate used by `MultiTaskModel.compile_default`.
        seed: Seed of weight initialization.
        ranking_reads_dropout: whether the ranking tasks score the towers' outputs on the
            features after `FeatureConfig.dropout` too. Default `False`: feature dropout
            regularises retrieval (and the attribute / interest heads) only, and in training
            steps the ranking stack reads the towers run on the full features (one more
            tower pass per side with dropout).
        item_item_weight: > 0 adds a full-rank item-item part to retrieval, beside the towers
            (`tfrs_mtl.layers.ItemItemPart`): the query's retrieval embedding appends
            `item_item_weight` times the multi-hot of its history
            (`query_tower.identity_feature`), the candidate's the item's row of a fixed
            `num_items x num_items` matrix that `MultiTaskModel.from_data` fits in closed form
            on the training interactions (EASE with L2 `item_item_l2`), so the served dot
            product is the towers' score plus `item_item_weight` times EASE's. The towers and
            heads train around it (unless
            `item_item_train_weight=0`); the ranking stack and the attribute heads do not
            read it. Small catalogues only: the matrix
            is dense (`MAX_ITEM_ITEM_ROWS` rows at most). 0: off.
        item_item_train_weight: the weight of that part in training steps; None: the
            served `item_item_weight`. 0: the towers and heads train without it (the
            retrieval loss never sees the item-item columns), and it is added to the
            served score only: retrieval then serves the trained towers' score plus
            `item_item_weight` times EASE's, fused in one dot product.
        item_item_recency: >= 0; with it the history's items weigh by how recent they are in
            the part's query columns (`ItemItemPart.recency`: the one followed by `r`
            others weighs `(1 + r) ** -item_item_recency`). 0: every item weighs 1.
        item_item_l2: EASE's L2 regularisation of that matrix; None (default): scaled to the
            data, `L2_PER_INTERACTION` times the mean number of training users per item
            (`tfrs_mtl.models.item_item.item_item_l2`).

    Example:
        >>> config = movielens_config()
        >>> MultiTaskConfig.from_dict(config.to_dict()) == config
        True
    """

    features: FeatureSpec
    tasks: tuple[TaskConfig, ...]
    query_tower: TowerConfig = dataclasses.field(default_factory=TowerConfig)
    candidate_tower: TowerConfig = dataclasses.field(default_factory=TowerConfig)
    interaction: InteractionConfig = dataclasses.field(default_factory=InteractionConfig)
    experts: ExpertsConfig = dataclasses.field(default_factory=ExpertsConfig)
    weighting: WeightingConfig = dataclasses.field(default_factory=WeightingConfig)
    query_id_feature: str = "user_id"
    candidate_id_feature: str = "movie_id"
    eval_top_k: tuple[int, ...] = (10, 100)
    learning_rate: float = 0.01
    seed: int = 42
    ranking_reads_dropout: bool = False
    item_item_weight: float = 0.0
    item_item_train_weight: float | None = None
    item_item_recency: float = 0.0
    item_item_l2: float | None = None

    def validate(self) -> None:
        require(len(self.tasks) > 0, "tasks: a model needs at least one task")
        names = [task.name for task in self.tasks]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        require(not duplicates, f"tasks: duplicate task names {duplicates}")
        # What each tower reads: `ranking_only` features belong to no tower.
        sides = {
            feature.name: feature.side
            for feature in self.features.features
            if not feature.ranking_only
        }
        by_feature = {feature.name: feature for feature in self.features.features}
        for field, side in (("query_tower", "query"), ("candidate_tower", "candidate")):
            identity = getattr(self, field).identity_feature
            require(
                identity is None or sides.get(identity) == side,
                f"{field}.identity_feature={identity!r} is not a {side} feature of the spec",
            )

        def width(tower: TowerConfig) -> int:
            identity = tower.identity_feature
            return tower.output_dim + (feature_output_dim(by_feature[identity]) if identity else 0)

        widths = {
            "query_tower": width(self.query_tower),
            "candidate_tower": width(self.candidate_tower),
        }
        require(
            widths["query_tower"] == widths["candidate_tower"],
            f"candidate_tower's output width {widths['candidate_tower']} "
            f"(output_dim={self.candidate_tower.output_dim}, identity_feature="
            f"{self.candidate_tower.identity_feature!r}) differs from query_tower's "
            f"{widths['query_tower']} (output_dim={self.query_tower.output_dim}, "
            f"identity_feature={self.query_tower.identity_feature!r})",
        )
        require(
            self.query_tower.use_bias_dimension == self.candidate_tower.use_bias_dimension,
            f"candidate_tower.use_bias_dimension={self.candidate_tower.use_bias_dimension} "
            f"differs from query_tower.use_bias_dimension={self.query_tower.use_bias_dimension}",
        )
        require(
            self.item_item_weight >= 0 and (self.item_item_l2 is None or self.item_item_l2 > 0),
            f"item_item_weight={self.item_item_weight} must be >= 0 and "
            f"item_item_l2={self.item_item_l2} > 0",
        )
        require(
            self.item_item_recency >= 0,
            f"item_item_recency={self.item_item_recency} must be >= 0",
        )
        require(
            self.item_item_train_weight is None
            or (self.item_item_weight > 0 and self.item_item_train_weight >= 0),
            f"item_item_train_weight={self.item_item_train_weight} needs item_item_weight > 0 "
            f"(got {self.item_item_weight}) and must be >= 0 (None: the same weight)",
        )
        if self.item_item_weight > 0:
            history = by_feature.get(self.query_tower.identity_feature or "")
            candidate = by_feature.get(self.candidate_id_feature)
            require(
                history is not None
                and history.kind == "multi_hot"
                and candidate is not None
                and history.table_name == candidate.table_name,
                f"item_item_weight={self.item_item_weight} needs query_tower.identity_feature "
                f"(now {self.query_tower.identity_feature!r}) to be a query-side multi_hot "
                "history reading the candidate id's table",
            )
        for field, side in (("query_id_feature", "query"), ("candidate_id_feature", "candidate")):
            name = getattr(self, field)
            require(
                sides.get(name) == side,
                f"{field}={name!r} is not a {side} feature of the spec "
                f"({side} features: {[f.name for f in self.features.tower_features(side)]})",
            )
        retrieval = [task.name for task in self.tasks if task.kind == "retrieval"]
        require(len(retrieval) <= 1, f"tasks: at most one retrieval task, got {retrieval}")
        by_name = {task.name: task for task in self.tasks}
        for task in self.tasks:
            if task.conditioned_on is not None:
                parent = by_name.get(task.conditioned_on)
                require(
                    parent is not None and parent.kind == "binary",
                    f"tasks.{task.name}.conditioned_on={task.conditioned_on!r}: no binary task "
                    f"of that name (binary tasks: "
                    f"{[t.name for t in self.tasks if t.kind == 'binary']})",
                )
                require(
                    parent is None or parent.conditioned_on is None,
                    f"tasks.{task.name}.conditioned_on={task.conditioned_on!r}: cascades of "
                    "more than two levels are not supported",
                )
            if task.kind in ("attribute", "interest"):
                tower_inputs = [f.name for f in self.features.tower_features(task.source_side)]
                check_attribute_leakage(task, tower_inputs)
            if task.positives_feature is not None:
                positives = by_feature.get(task.positives_feature)
                candidate_table = by_feature[self.candidate_id_feature].table_name
                require(
                    positives is not None
                    and positives.kind == "multi_hot"
                    and positives.side == "query"
                    and positives.table_name == candidate_table,
                    f"tasks.{task.name}.positives_feature={task.positives_feature!r} must be a "
                    f"query-side multi_hot feature reading the {candidate_table!r} table "
                    "(candidate ids)",
                )
            if task.is_ranking or task.kind == "retrieval":
                require(
                    task.label_key not in sides,
                    f"tasks.{task.name}.label_key={task.label_key!r} is also an input feature",
                )
        require(all(k > 0 for k in self.eval_top_k), f"eval_top_k={self.eval_top_k} must be > 0")
        require(self.learning_rate > 0, f"learning_rate={self.learning_rate} must be > 0")

    @property
    def architecture(self) -> str:
        """The ranking stack architecture (`experts.architecture`)."""
        return self.experts.architecture

    def task(self, name: str) -> TaskConfig:
        """The task called `name`; `KeyError` lists the task names."""
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(f"no task {name!r}; tasks: {[t.name for t in self.tasks]}")

    @property
    def ranking_tasks(self) -> tuple[TaskConfig, ...]:
        """Tasks scored on (query, candidate) pairs through the ranking stack."""
        return tuple(task for task in self.tasks if task.is_ranking)
