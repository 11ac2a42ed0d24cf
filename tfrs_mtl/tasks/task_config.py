"""`TaskConfig` and `WeightingConfig`: what each task predicts and how task losses combine.

A task is keyed by its `name`: the name keys its label (through `label_key`), its head, its
gate, its loss weight and its metrics (`rating/rmse`, `rating/loss`, `rating/weight`). One
dataclass covers every kind so that a list of tasks round-trips through plain JSON; `validate()`
refuses fields that make no sense for the kind.

Example:
    >>> rating = TaskConfig(name="rating", kind="rating", label_key="user_rating")
    >>> genres = TaskConfig(
    ...     name="genres", kind="attribute", label_key="movie_genres",
    ...     target="multi_label", num_classes=21, source_side="candidate")
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from tfrs_mtl._choices import Weighting
from tfrs_mtl.config import Config, require
from tfrs_mtl.layers.configs import HeadConfig

TaskKind = Literal["retrieval", "rating", "binary", "engagement", "attribute", "interest"]
AttributeTarget = Literal["multi_label", "multi_class", "regression"]

#: Task kinds scored on a (query, candidate) pair by the ranking stack.
RANKING_KINDS = ("rating", "binary", "engagement")
#: Ranking task kinds whose score is a probability.
PROBABILITY_KINDS = ("binary", "engagement")


@dataclasses.dataclass(frozen=True)
class TaskConfig(Config):
    """One task of a multi-task model.

    Attributes:
        name: Unique task name; keys weights, heads, gates and metrics.
        kind: `retrieval` (two-tower softmax), `rating` (regression on a pair), `binary`
            (a behaviour such as click or purchase), `engagement` (did the user interact with
            the item: each row's item against negatives drawn from what stage 1 retrieves
            for the row's query and from the catalogue; `tfrs_mtl.models.engagement_loss`),
            `attribute` (predict a side's attribute from that side's tower), `interest` (a
            user's distribution over classes).
        label_key: Feature key holding the label (unused by `retrieval` and `engagement`,
            whose positives are the rows, weighted by `sample_weight_key`).
        weight: Fixed loss weight (the `fixed` strategy), initial weight for `gradnorm`,
            prior scale for `dwa`.
        sample_weight_key: Optional feature key holding per-example weights `[batch_size]`.
            An attribute task's label statistics are fitted on the rows weighted above 0,
            and its catalogue term (`loss_over`) weighs each item by its weight.
        head: The task head MLP (`tfrs_mtl.layers.HeadConfig`).
        temperature: Retrieval softmax temperature (logits are divided by it).
        use_full_catalogue: Retrieval softmax over every catalogue item at each step instead
            of in-batch negatives (only for small catalogues).
        use_logq_correction: Subtract log(item frequency) from in-batch logits (Yi et al.,
            RecSys 2019, "Sampling-bias-corrected neural modeling ...").
        remove_accidental_hits: Mask in-batch negatives that are the positive item.
        num_hard_negatives: Keep only this many hardest negatives (0 keeps all).
        regression_loss: `mse` or `huber` (rating, regression attributes).
        huber_delta: Huber threshold.
        use_global_bias: Rating prediction adds a learned global bias.
        use_user_bias: Rating prediction adds a learned per-user bias.
        use_item_bias: Rating prediction adds a learned per-item bias.
        conditioned_on: For a binary task, the name of the binary task it is conditioned on
            in an ESMM cascade (Ma et al., SIGIR 2018): the head predicts
            p(self | parent) and the loss is taken on p(parent) * p(self | parent) over all
            impressions.
        target: For attributes: `multi_label`, `multi_class` or `regression`.
        num_classes: Number of classes (multi-label, multi-class, interest). For a string
            multi-class label, 0 means "from the label vocabulary fitted on training data";
            for an interest task, "the width of the training profiles".
        source_side: The tower an attribute is predicted from (`query` or `candidate`).
        interest_loss: `kl` (KL divergence) or `cross_entropy` for the interest task.
        head_input: Attribute and interest tasks: what the head reads. `tower`: the source
            tower's output embedding. `tower_and_features`: that embedding beside the
            tower's encoded input features (its shared embedding rows, before the
            projection and the L2 normalisation that retrieval shapes), so that the head
            still shares the embeddings but can read what the normalisation discards.
        private_embedding_dim: Attribute and interest tasks: the width of an embedding of the
            source tower's id feature (`candidate_id_feature` or `query_id_feature`) that only
            this task's head reads, beside its other inputs; 0 (the default) adds none. It
            gives the head per-item (per-user) capacity that the shared rows, shaped by
            retrieval and rating, cannot spare: a movie's genres are memorised there, and the
            head still reads (and trains) the shared embeddings. Its rows start at zero, so
            an item the head never trained on reads nothing from it.
        loss_over: Candidate-side attribute tasks: what a training step's loss covers.
            `batch` (the default): the batch's rows, so an item counts as often as it is
            interacted with. `batch_and_catalogue`: those rows, plus a term over every
            catalogue item once (its label from its first training row; the model needs a
            catalogue holding the label, as `MultiTaskModel.from_data` builds) and once
            more under an id outside the vocabulary (`CatalogueAttributes`). That term
            trains the head (and its private embedding) alone: a rarely seen item's
            attribute is memorised as well as a popular one's, an item the model never saw
            gets what its other features say or the catalogue's label frequencies, and the
            shared rows keep the batch rows' interaction-weighted signal. Evaluation steps
            score the batch's rows only.
        positives_feature: Retrieval with `use_full_catalogue`: a `multi_hot` query feature
            holding candidate ids (e.g. `user_history`) whose items are positives of the
            row too: the loss is then the mean log-softmax over the row's item and these
            (`RetrievalTask.multi_positive_loss`, Mult-DAE's multinomial likelihood). The
            labels read the feature's full value even when its `dropout` thins the query
            tower's input. Engagement: the feature's items are never drawn as negatives.
        num_retrieved_negatives: Engagement: negatives per row drawn (uniformly, without
            replacement) from the `retrieved_negatives_pool` catalogue items that the
            model's retrieval score ranks best for the row's query, the row's item and
            `positives_feature` excluded: the candidates stage 1 retrieves, which the
            ranking stage must learn to order.
        retrieved_negatives_pool: Engagement: how deep in stage 1's ranking those are drawn.
        num_random_negatives: Engagement: negatives per row drawn uniformly from the
            catalogue.
    """

    name: str
    kind: TaskKind
    label_key: str = ""
    weight: float = 1.0
    sample_weight_key: str | None = None
    head: HeadConfig = dataclasses.field(default_factory=HeadConfig)
    temperature: float = 1.0
    use_full_catalogue: bool = False
    use_logq_correction: bool = False
    remove_accidental_hits: bool = False
    num_hard_negatives: int = 0
    regression_loss: Literal["mse", "huber"] = "mse"
    huber_delta: float = 1.0
    use_global_bias: bool = False
    use_user_bias: bool = False
    use_item_bias: bool = False
    conditioned_on: str | None = None
    target: AttributeTarget = "multi_label"
    num_classes: int = 0
    source_side: Literal["query", "candidate"] = "candidate"
    interest_loss: Literal["kl", "cross_entropy"] = "kl"
    head_input: Literal["tower", "tower_and_features"] = "tower"
    private_embedding_dim: int = 0
    loss_over: Literal["batch", "batch_and_catalogue"] = "batch"
    positives_feature: str | None = None
    num_retrieved_negatives: int = 0
    retrieved_negatives_pool: int = 100
    num_random_negatives: int = 0

    def validate(self) -> None:
        require(
            bool(self.name) and "/" not in self.name,
            f"name={self.name!r} must be a non-empty string without '/' (it prefixes metric names)",
        )
        require(self.weight >= 0, f"{self.name}.weight={self.weight} must be >= 0")
        require(self.temperature > 0, f"{self.name}.temperature={self.temperature} must be > 0")
        require(
            self.num_hard_negatives >= 0,
            f"{self.name}.num_hard_negatives={self.num_hard_negatives} must be >= 0",
        )
        require(self.huber_delta > 0, f"{self.name}.huber_delta={self.huber_delta} must be > 0")
        negatives = {
            field: getattr(self, field)
            for field in (
                "num_retrieved_negatives",
                "retrieved_negatives_pool",
                "num_random_negatives",
            )
        }
        require(
            all(value >= 0 for value in negatives.values()),
            f"{self.name}: negative counts {negatives} must be >= 0",
        )
        if self.kind == "engagement":
            require(
                self.num_retrieved_negatives + self.num_random_negatives > 0,
                f"{self.name}: an engagement task needs negatives: num_retrieved_negatives="
                f"{self.num_retrieved_negatives}, num_random_negatives={self.num_random_negatives}",
            )
            require(
                self.num_retrieved_negatives <= self.retrieved_negatives_pool,
                f"{self.name}.num_retrieved_negatives={self.num_retrieved_negatives} exceeds "
                f"retrieved_negatives_pool={self.retrieved_negatives_pool}",
            )
        else:
            require(
                self.num_retrieved_negatives == 0 and self.num_random_negatives == 0,
                f"{self.name}: num_retrieved_negatives / num_random_negatives only apply to "
                "kind='engagement'",
            )
        if self.kind not in ("retrieval", "engagement"):
            require(
                bool(self.label_key), f"{self.name}.label_key is required for kind={self.kind!r}"
            )
        if self.kind != "retrieval":
            retrieval_only = ("use_full_catalogue", "use_logq_correction", "remove_accidental_hits")
            for field in retrieval_only:
                require(
                    not getattr(self, field),
                    f"{self.name}.{field}=True only applies to kind='retrieval'",
                )
            require(
                self.positives_feature is None or self.kind == "engagement",
                f"{self.name}.positives_feature={self.positives_feature!r} only applies to "
                "kind='retrieval' and kind='engagement'",
            )
        else:
            require(
                not (self.use_full_catalogue and self.use_logq_correction),
                f"{self.name}: use_logq_correction=True corrects in-batch sampling and "
                "does not apply with use_full_catalogue=True",
            )
            require(
                self.positives_feature is None or self.use_full_catalogue,
                f"{self.name}.positives_feature={self.positives_feature!r} needs "
                "use_full_catalogue=True (the extra positives are catalogue items)",
            )
            require(
                not (self.use_full_catalogue and self.num_hard_negatives),
                f"{self.name}: num_hard_negatives={self.num_hard_negatives} with "
                "use_full_catalogue=True is not supported",
            )
        if self.kind != "rating":
            for field in ("use_global_bias", "use_user_bias", "use_item_bias"):
                require(
                    not getattr(self, field),
                    f"{self.name}.{field}=True only applies to kind='rating'",
                )
        if self.conditioned_on is not None:
            require(
                self.kind == "binary",
                f"{self.name}.conditioned_on={self.conditioned_on!r} only applies to kind='binary'",
            )
            require(
                self.conditioned_on != self.name,
                f"{self.name}.conditioned_on={self.conditioned_on!r} names itself",
            )
        if self.kind == "interest":
            require(
                self.source_side == "query",
                f"{self.name}.source_side={self.source_side!r}: interest is predicted "
                "from the query tower",
            )
        if self.kind == "attribute" and self.target == "multi_label":
            require(
                self.num_classes > 0,
                f"{self.name}.num_classes={self.num_classes} must be > 0 for target='multi_label'",
            )
        require(self.num_classes >= 0, f"{self.name}.num_classes={self.num_classes} < 0")
        require(
            self.head_input in ("tower", "tower_and_features"),
            f"{self.name}.head_input={self.head_input!r} must be 'tower' or 'tower_and_features'",
        )
        require(
            self.head_input == "tower" or self.kind in ("attribute", "interest"),
            f"{self.name}.head_input={self.head_input!r} only applies to attribute and "
            "interest tasks (the others read the ranking stack)",
        )
        require(
            self.private_embedding_dim >= 0,
            f"{self.name}.private_embedding_dim={self.private_embedding_dim} must be >= 0",
        )
        require(
            self.private_embedding_dim == 0 or self.kind in ("attribute", "interest"),
            f"{self.name}.private_embedding_dim={self.private_embedding_dim} only applies to "
            "attribute and interest tasks",
        )
        require(
            self.loss_over in ("batch", "batch_and_catalogue"),
            f"{self.name}.loss_over={self.loss_over!r} must be 'batch' or 'batch_and_catalogue'",
        )
        require(
            self.loss_over == "batch"
            or (self.kind == "attribute" and self.source_side == "candidate"),
            f"{self.name}.loss_over={self.loss_over!r} only applies to candidate-side "
            "attribute tasks (item attributes)",
        )

    @property
    def trains_on_catalogue(self) -> bool:
        """Whether training steps add a loss term over the catalogue's items."""
        return self.loss_over == "batch_and_catalogue"

    @property
    def is_ranking(self) -> bool:
        """Whether the task scores a (query, candidate) pair through the ranking stack."""
        return self.kind in RANKING_KINDS


@dataclasses.dataclass(frozen=True)
class WeightingConfig(Config):
    """How task losses are combined inside `compute_loss`.

    Attributes:
        method: `fixed` (each task's `weight`), `uncertainty` (learned log-variances, Kendall
            et al., CVPR 2018), `dwa` (Dynamic Weight Average, Liu et al., CVPR 2019) or
            `gradnorm` (Chen et al., ICML 2018).
        dwa_temperature: DWA softmax temperature T.
        gradnorm_alpha: GradNorm asymmetry alpha (larger pulls harder towards equal rates).
        gradnorm_learning_rate: Learning rate of the GradNorm weight optimizer.
        use_pcgrad: Project conflicting per-task gradients (PCGrad, Yu et al., NeurIPS 2020)
            before summing; composes with `fixed`, `uncertainty` and `dwa`.
        initial_log_variance: Initial s_i of the uncertainty strategy.
    """

    method: Weighting = "fixed"
    dwa_temperature: float = 2.0
    gradnorm_alpha: float = 1.5
    gradnorm_learning_rate: float = 0.025
    use_pcgrad: bool = False
    initial_log_variance: float = 0.0

    def validate(self) -> None:
        require(self.dwa_temperature > 0, f"dwa_temperature={self.dwa_temperature} must be > 0")
        require(self.gradnorm_alpha >= 0, f"gradnorm_alpha={self.gradnorm_alpha} must be >= 0")
        require(
            self.gradnorm_learning_rate > 0,
            f"gradnorm_learning_rate={self.gradnorm_learning_rate} must be > 0",
        )
        require(
            not (self.use_pcgrad and self.method == "gradnorm"),
            "use_pcgrad=True with method='gradnorm' is not supported: both own the gradient step",
        )
