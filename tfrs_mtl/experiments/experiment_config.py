"""`ExperimentConfig`: one train-evaluate-export run as configuration (YAML/JSON round trip).

It names the data (dataset, folder, optional row sample), the split, the overrides of the
dataset's preset `MultiTaskConfig` (tasks, architecture, weighting, sizes, optimisation), the
candidate index and the baselines run beside the model. `model_config()` turns it into the
`MultiTaskConfig` that is trained.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Collection
from typing import TYPE_CHECKING, Any, Literal

from tfrs_mtl._choices import Architecture, Weighting
from tfrs_mtl.config import Config, require
from tfrs_mtl.data.split_config import MAX_SEED, SplitConfig
from tfrs_mtl.experiments.recipes import (
    BUILT_IN_DATASETS,
    RECIPES,
    EventTableSource,
    Recipe,
    recipe_for,
    register_event_table,
)
from tfrs_mtl.features.user_history import DEFAULT_HISTORY_LENGTH, HISTORY_FEATURE
from tfrs_mtl.serving.index_config import IndexConfig

if TYPE_CHECKING:
    from tfrs_mtl.models import MultiTaskConfig

#: Opt-in tasks: trained only when `ExperimentConfig.tasks` names them. `interest` predicts
#: the user's training genre (MovieLens) or category (e-commerce) distribution.
OPTIONAL_TASKS: tuple[str, ...] = ("interest",)
BASELINES: tuple[str, ...] = (
    "popularity",
    "ease",
    "item_knn",
    "matrix_factorization",
    "tfrs_tutorial",
)
BASELINE_ALIASES: dict[str, str] = {
    "knn": "item_knn",
    "mf": "matrix_factorization",
    "tutorial": "tfrs_tutorial",
}
#: Opt-in baselines: run only when `ExperimentConfig.baselines` names them (not in the default
#: nor in `all`). `attribute_single_task` trains the model's item attribute tasks beside
#: retrieval alone, scored on the held-out items of `attribute_holdout`.
OPTIONAL_BASELINES: tuple[str, ...] = ("attribute_single_task",)
#: The served weight of EASE's item-item part when `item_item_weight=None` turns it on and
#: no validation carve-out fits it (`fits_item_item_weight`), chosen on a validation carve-out
#: of MovieLens-100K's training rows.
DEFAULT_ITEM_ITEM_WEIGHT = 0.5
#: `category_input=None` turns the category input on where at least this share of the
#: training interactions are with items that have no other training interaction: there the
#: item id says next to nothing, and most test interactions are with items absent from
#: training (the Taobao sample: 98%; MovieLens-100K, RetailRocket and the synthetic shop
#: at its measured sizes: 2% or less).
SPARSE_ITEMS_SHARE = 0.5
#: `item_id_dropout=None` where the candidate tower reads the category: the share of item
#: ids it reads as unknown in training, so that it learns to embed an item from its category.
#: Chosen among 0.1, 0.3, 0.5 and 0.7 on validation carve-outs of the Taobao sample and of a
#: synthetic shop with far more items than views (docs/quality.md).
CATEGORY_INPUT_ITEM_ID_DROPOUT = 0.5
#: The largest catalogue on which `item_item_weight=None` turns the item-item part on. The
#: part is dense: it is fitted as an items x items matrix inverse (cubic in the items) and
#: served as one embedding column per item, so the model, the index and the evaluation's
#: query embeddings each hold about items x items floats (324 MB at 9,000 items, 10 GB at
#: 50,000). Beyond it the part is off (and the run says so); an explicit `item_item_weight`
#: still turns it on. The bound lies between the catalogues where it was measured (see
#: docs/quality.md): on at 10,000 items it took a 100k-interaction run well past 3 GB.
MAX_ITEM_ITEM_ITEMS = 9_000
#: The largest catalogue on which `retrieval_negatives=None` trains retrieval against every
#: item: a full softmax scores the whole catalogue at every step (`[batch, items]` logits
#: and their gradient: 200 MB per copy at batch 1,024 and 50,000 items). Beyond it the
#: default is in-batch negatives with the logQ correction, which cost the same at any size.
MAX_FULL_CATALOGUE_ITEMS = 50_000
#: Baselines that hold an items x items dense matrix (EASE: the Gram matrix and its
#: inverse, 4 bytes x items² each, cubic time): left out of the default baselines on
#: catalogues above `MAX_DENSE_BASELINE_ITEMS` (1.6 GB per matrix at 20,000 items), run
#: there only when named.
DENSE_BASELINES: tuple[str, ...] = ("ease",)
MAX_DENSE_BASELINE_ITEMS = 20_000

#: The largest value of each size a config may ask for: beyond them a run would exhaust
#: memory (embedding tables, history, negative or synthetic arrays, evaluation cut-offs) or
#: overflow TensorFlow's 32-bit sizes before training a step.
MAX_SIZES: dict[str, int] = {
    "embedding_dim": 8192,
    "user_history_length": 10_000,
    "history_clusters": 1_000,
    "epochs": 100_000,
    "batch_size": 2**31 - 1,
    "num_candidates": 100_000,
    "num_negatives_per_user": 1_000,
    "synthetic_num_users": 10_000_000,
    "synthetic_num_items": 10_000_000,
    "synthetic_num_events": 100_000_000,
}
MAX_K = 10_000
MAX_HIDDEN_DIM = 8192
MAX_HIDDEN_WEIGHTS = 50_000_000  # per tower, between hidden layers (200 MB of float32)
#: Item-item scores sit on the towers' cosine scale; a weight beyond this drowns them, and a
#: huge one overflows the served scores.
MAX_ITEM_ITEM_WEIGHT = 1_000.0


def dataset_tasks(dataset: str) -> tuple[str, ...]:
    """The tasks the dataset's recipe trains by default."""
    return recipe_for(dataset).tasks


def default_baselines(dataset: str) -> tuple[str, ...]:
    """The baselines run beside the model when none are named: every one that applies to
    the dataset's recipe (the TFRS tutorial on the TFDS MovieLens data only)."""
    tutorial = dataset in RECIPES and recipe_for(dataset).tfds_tutorial
    return tuple(name for name in BASELINES if name != "tfrs_tutorial" or tutorial)


@dataclasses.dataclass(frozen=True)
class ExperimentConfig(Config):
    """One experiment: data, split, model overrides, index and baselines.

    Attributes:
        dataset: one of `tfrs_mtl.data.DATASET_NAMES`, or a name given to
            `tfrs_mtl.experiments.recipes.register_dataset` or to `events`.
        events: a CSV/Parquet event table of your own (`EventTableSource`: the file, its
            column map and behaviour map), trained with the e-commerce recipe under the
            name `dataset`, which the config registers in the process (a YAML config with
            an `events:` block trains through `tfrs-mtl train --config`). None: `dataset`
            is built in or registered already.
        data_dir: the dataset's folder (None: `$TFRS_MTL_DATA_DIR`, then TFDS for MovieLens).
        max_rows: keep a seeded random sample of this many rows (interactions) before
            splitting; 0 keeps everything. For smoke tests and demos on small machines.
        split: the train/test split (`method: tutorial` is the TFRS tutorials' 80/20).
        tasks: the preset's tasks to train, by name (empty: all of them but the opt-in
            ones). `retrieval` is required: the two-stage recommender retrieves with it.
            The opt-in `interest` task (`OPTIONAL_TASKS`) predicts each user's distribution
            over item genres (MovieLens) or categories (e-commerce), computed per split from
            the user's TRAINING positives only; it is evaluated as `interest/kl` against the
            distribution of the user's test positives. Data without the class column
            (RetailRocket has no categories) trains without it.
        architecture: ranking stack (`shared_bottom`, `mmoe`, `ple`); None: the recipe's.
        weighting: loss weighting (`fixed`, `uncertainty`, `dwa`, `gradnorm`).
        task_weights: fixed loss weights by task name (`fixed`; the starting weights of the
            other methods), over the preset's and the recipe's (`Recipe.task_weights`;
            MovieLens: rating 0.5, genres 1).
        retrieval_negatives: the retrieval softmax: `in_batch` (the other positives of the
            batch), `logq` (in-batch, logits corrected by each item's log sampling
            probability; Yi et al., "Sampling-Bias-Corrected Neural Modeling for Large Corpus
            Item Recommendations", RecSys 2019) or `full_catalogue` (every training item).
            Uncorrected in-batch negatives over-penalise popular items. None (default):
            `full_catalogue` on a catalogue of at most `MAX_FULL_CATALOGUE_ITEMS` items,
            else `logq` (`retrieval_negatives_for`; the run says so).
        embedding_dim: width of every embedding table and of the towers' output.
        user_history_length: where the recipe reads histories (`Recipe.reads_history`:
            MovieLens and the built-in e-commerce data): the query tower reads the
            `user_history` feature, the user's training items (e-commerce: clicked) through
            the item id table (`tfrs_mtl.features.user_history`); a training row's history
            leaves out its own item and keeps at most this many (seeded random subset). 0: no
            history feature.
        side_features: MovieLens: the towers also read age bucket, gender, occupation and
            rating time (query) and the title (candidate); off by default (they hurt
            retrieval in the ml-100k quality search).
        history_dropout: with a history: in each training step every history item
            is left out of the query tower's input with this probability, drawn afresh
            every step (Mult-DAE's input denoising; `FeatureConfig.dropout`). 0 by default:
            with long histories clustered in retrieval queries the full history serves
            better.
        user_id_dropout: MovieLens, and e-commerce with a history: in each training step a
            row's user id reaches the query
            tower as unknown with this probability, so the tower cannot memorise users and
            learns the embedding an unseen user gets (the rating's user bias still reads
            the id).
        item_id_dropout: in each training step an item's id reaches the candidate tower as
            unknown with this probability, in the batch and in the catalogue the retrieval
            softmax scores, so that the tower learns to embed an item from the attributes
            it reads alone (MovieLens titles with `side_features`; the shop's brand, and
            its category with `category_input`): what an item absent from training reads
            when it is served (`Recommender.add_items`, `cold_items`). None (default):
            `CATEGORY_INPUT_ITEM_ID_DROPOUT` where `category_input` is on, else 0
            (`resolved_item_id_dropout`).
        category_input: e-commerce: the candidate tower also reads the item's category
            (as it reads the brand), and no `category` task is trained (a head cannot
            predict what its tower reads), so that an item with few or no interactions is
            embedded from its category. None (default): by the training rows' shape
            (`with_data_shape`): on where at least `SPARSE_ITEMS_SHARE` of the training
            interactions are with items that have no other one and the items have a
            category (the run says so), else off. `tfrs-mtl tune` searches it where the
            data has categories.
        retrieval_positives: `history` (with a history and `full_catalogue`
            negatives): the row's history items are positives of the retrieval softmax
            besides its own movie, the multinomial likelihood of Mult-DAE (Liang et al.,
            WWW 2018; `TaskConfig.positives_feature`); `item`: the row's movie only. Where
            it does not apply, `item` is used.
        retrieval_item_bias: with a history: a learned per-item retrieval bias beside the cosine
            similarity, served as one more embedding dimension
            (`TowerConfig.use_bias_dimension`).
        identity_embeddings: with a history and `use_l2_norm`: each tower's output
            also carries, unprojected, the pooled history (query) and the movie's own row
            (candidate) (`TowerConfig.identity_feature`), so retrieval scores a user's
            movies against the candidate directly as well as through the towers' linear map
            (the embeddings are then `2 * embedding_dim + 1` wide).
        history_clusters: With `identity_embeddings`: a history of 150 or more movies is
            pooled, in the identity part, as the size-weighted unit directions of this many
            clusters of its movies (`TowerConfig.history_clusters`; 1: the plain mean).
            Retrieval queries only (evaluation and serving): training, the losses and the
            rating head read the plain mean. Heavy users' retrieval queries then weigh each
            of their interests by its size.
        item_item_weight: with `identity_embeddings`: > 0 adds EASE's full-rank
            item-item scores of the user's history (fitted in closed form on the training
            rows, λ=500, kept fixed) at this weight to the retrieval score, served in the same
            dot product (`MultiTaskConfig.item_item_weight`). 0: off. None (default): on
            where the part is supported (`item_item_supported`) and the catalogue has at
            most `MAX_ITEM_ITEM_ITEMS` items, else off (`item_item_weight_for`); its served
            weight is then fitted on the run's validation carve-out
            (`fits_item_item_weight`; 0 there turns it off), or `DEFAULT_ITEM_ITEM_WEIGHT`
            where no carve-out is fitted.
        item_item_recency: >= 0: with the item-item part, how much its query leans on the
            user's latest items (`MultiTaskConfig.item_item_recency`: the history item
            followed by `r` others weighs `(1 + r) ** -item_item_recency`; histories are
            ordered by the rows' timestamps). None (default): fitted with the part's served
            weight on the validation carve-out where the data have timestamps
            (`fits_item_item_weight`; 0 there, as without timestamps, weighs every item
            alike), else 0.
        item_item_train_weight: the item-item part's weight in training steps
            (`MultiTaskConfig.item_item_train_weight`). 0 (default): the towers and heads
            train without it and it is added to the served retrieval score only (the
            training steps are the towers-only model's); None: they train around it at
            `item_item_weight`.
        tower_hidden_dims: hidden layers of the query and candidate towers (empty: the
            towers are a linear map of the concatenated features).
        use_l2_norm: L2-normalise both towers' outputs (cosine similarity), with
            `retrieval_temperature` dividing the retrieval logits.
        retrieval_temperature: softmax temperature of the retrieval task.
        epochs: training epochs.
        batch_size: training batch size.
        optimizer: `adam` or `adagrad` (the TFRS tutorials' choice).
        learning_rate: the optimizer's learning rate.
        ema_momentum: the trained model holds an exponential moving average of its weights
            over the training steps, with this momentum (Polyak averaging; shortened for
            runs too short to average over, `tfrs_mtl.models.averaging_momentum`); None
            keeps the last step's weights. The per-epoch validation losses
            score the running weights, not the average.
        seed: seeds weight initialisation, shuffling, sampling and the baselines.
        deterministic: turn on TensorFlow op determinism (for the whole process) before
            training, so that the same seed and config give the same metrics.
        validate_each_epoch: the blend fit's model evaluates its losses on the validation
            carve-out after every epoch (the run's validation curves, `val_*` in
            history.json; nothing is chosen on them). The served model trains on every
            training row and reads no test row before evaluation, so a run that fits no
            blend has no validation curves.
        index: the candidate index served and evaluated (`index/recall@10_vs_exact`).
        index_target_recall: when set, `tfrs_mtl.serving.tune_index` picks the fastest
            index whose recall@10 against exact search reaches it, measured on every user's
            query embedding (no labels read), and that index is served and evaluated.
        num_candidates: items stage 1 retrieves per query for stage 2 to re-rank (the
            served metrics use it, as `recommend` does).
        blend: the served blend (`tfrs_mtl.serving.blend`: `{score: weight}` over
            `retrieval` and the ranking tasks), saved with the model as its default; None
            fits it on a validation carve-out of the training rows when the model has
            ranking tasks (`tfrs_mtl.experiments.fit_served_blend`: a second model is
            trained on the other training rows to serve the carved-out users).
        blend_target: the label whose held-out rows the fitted blend ranks best (NDCG@50,
            `tfrs_mtl.experiments.blend_fitting.FIT_CUTOFF`):
            a 0/1 behaviour (e.g. `purchase`: gain 1 where it happened) or the rating column
            (graded: gain = the rating given); None: `purchase` on data with purchase
            labels, else the rating on data with ratings, else every interaction (gain 1);
            `interactions`: every interaction (gain 1) on any data.
        validation_fraction: the share of training rows held out to fit the blend (a split
            by time holds out the latest); 0 fits nothing and serves stage 1's order.
        baselines: run in the same process on the same split: `popularity`, `ease`,
            `item_knn`, `matrix_factorization` (needs ratings), `tfrs_tutorial` (MovieLens
            only); the opt-in `attribute_single_task` (`OPTIONAL_BASELINES`, with
            `attribute_holdout`) trains retrieval and the item attribute tasks alone and
            scores them on the held-out items. None (default): every one that applies to
            the dataset (`default_baselines`), less the dense ones (`DENSE_BASELINES`) on a
            catalogue of more than `MAX_DENSE_BASELINE_ITEMS` items (`baselines_for`).
        attribute_holdout: the share of the training catalogue's items whose attributes
            (MovieLens genres; e-commerce category, price and brand) are hidden in training,
            chosen per split, seeded by `seed` and stratified by label
            (`tfrs_mtl.experiments.attribute_holdout`). Their interactions still train
            every other task, but the attribute tasks get no loss from them (batch rows
            and catalogue term) and every tower and head reads their attributes as
            unknown. The attribute metrics (`genres/*`, `category/*`, `brand/*`,
            `price/*`) are then one prediction per held-out item, completed from the
            closest known items in the model's item space (the heads' own predictions:
            `head_*`), beside the label-frequency and item-kNN baselines
            (`baselines/label_frequency/...`, `baselines/item_knn/...`); the per-row scores
            on test rows of the other items become `seen_items_*`. 0: off.
        cold_items: the share of the training catalogue's items whose every training
            interaction is removed (chosen per split, seeded by `seed`; their test rows
            stay): items the model never trained on, served from their attributes. Scored
            as `cold_items/*` (`tfrs_mtl.experiments.cold_items`): recall@20 and NDCG@20 of
            the test interactions with them when ranking those items alone, their recall
            in the served top 20 and their share of the served top 10, beside the
            category-popularity baseline in the same run. 0: off.
        ks: retrieval cut-offs reported (`retrieval/recall@K`, `ndcg@K`, ...).
        num_negatives_per_user: e-commerce: unclicked impressions sampled per user.
        synthetic_num_users: `synthetic-ecommerce` generator size.
        synthetic_num_items: `synthetic-ecommerce` generator size.
        synthetic_num_events: `synthetic-ecommerce` generator size.

    Example:
        >>> config = ExperimentConfig.from_dict({"dataset": "movielens-100k", "epochs": 1,
        ...                                      "tasks": ["retrieval", "rating"]})
        >>> config.model_config().task("rating").label_key  # doctest: +SKIP
        'user_rating'
    """

    dataset: str = "movielens-100k"
    events: EventTableSource | None = None
    data_dir: str | None = None
    max_rows: int = 0
    split: SplitConfig = dataclasses.field(default_factory=SplitConfig)
    tasks: tuple[str, ...] = ()
    architecture: Architecture | None = None
    weighting: Weighting = "fixed"
    task_weights: dict[str, float] = dataclasses.field(default_factory=dict)
    retrieval_negatives: Literal["in_batch", "logq", "full_catalogue"] | None = None
    embedding_dim: int = 64
    user_history_length: int = DEFAULT_HISTORY_LENGTH
    side_features: bool = False
    history_dropout: float = 0.0
    user_id_dropout: float = 0.5
    item_id_dropout: float | None = None
    category_input: bool | None = None
    retrieval_positives: Literal["item", "history"] = "history"
    retrieval_item_bias: bool = True
    identity_embeddings: bool = True
    history_clusters: int = 2
    item_item_weight: float | None = None
    item_item_recency: float | None = None
    item_item_train_weight: float | None = 0.0
    tower_hidden_dims: tuple[int, ...] = ()
    use_l2_norm: bool = True
    retrieval_temperature: float = 0.3
    epochs: int = 6
    batch_size: int = 1024
    optimizer: Literal["adam", "adagrad"] = "adam"
    learning_rate: float = 0.002
    ema_momentum: float | None = 0.99
    seed: int = 42
    deterministic: bool = True
    validate_each_epoch: bool = True
    index: IndexConfig = dataclasses.field(default_factory=IndexConfig)
    index_target_recall: float | None = None
    num_candidates: int = 200
    blend: dict[str, float] | None = None
    blend_target: str | None = None
    validation_fraction: float = 0.2
    baselines: tuple[str, ...] | None = None
    ks: tuple[int, ...] = (10, 20, 100)
    num_negatives_per_user: int = 4
    synthetic_num_users: int = 2_000
    synthetic_num_items: int = 1_000
    synthetic_num_events: int = 40_000
    attribute_holdout: float = 0.0
    cold_items: float = 0.0

    def __post_init__(self) -> None:
        if self.events is not None:
            require(
                self.dataset not in BUILT_IN_DATASETS,
                f"dataset={self.dataset!r} is built in; name the events table's dataset "
                "yourself (e.g. dataset: my-shop)",
            )
            register_event_table(self.dataset, self.events)
        super().__post_init__()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExperimentConfig:
        """As `Config.from_dict`; a `preset` key starts from that named preset
        (`tfrs_mtl.experiments.experiment_presets`), the other keys overriding it."""
        from tfrs_mtl.experiments.experiment_presets import with_preset

        return super().from_dict(with_preset(data) if isinstance(data, dict) else data)

    def validate(self) -> None:
        require(
            self.dataset in RECIPES,
            f"dataset={self.dataset!r} is not one of {list(RECIPES)} (register your own with "
            "tfrs_mtl.experiments.recipes.register_dataset)",
        )
        require(self.max_rows >= 0, f"max_rows={self.max_rows} must be >= 0 (0 keeps all)")
        require(
            self.dataset != "synthetic-ecommerce" or self.data_dir is None,
            f"data_dir={self.data_dir!r}: synthetic-ecommerce is generated, not read from a "
            "folder (its sizes are synthetic_num_users, _items and _events)",
        )
        require(0 <= self.seed <= MAX_SEED, f"seed={self.seed} is not in [0, {MAX_SEED}]")
        for name, limit in MAX_SIZES.items():
            value = getattr(self, name)
            require(value <= limit, f"{name}={value} is above the largest supported, {limit:,}")
        known = dataset_tasks(self.dataset) + OPTIONAL_TASKS
        unknown = [name for name in self.tasks if name not in known]
        require(
            not unknown,
            f"tasks={list(self.tasks)}: unknown task(s) {unknown} for {self.dataset}; "
            f"expected some of {list(known)}",
        )
        require(
            not self.tasks or "retrieval" in self.tasks,
            f"tasks={list(self.tasks)} lacks 'retrieval': the two-stage recommender "
            "retrieves its candidates with the retrieval task",
        )
        require(len(set(self.tasks)) == len(self.tasks), f"tasks={list(self.tasks)} repeats")
        require(
            not self.category_input or "category" in known,
            f"category_input=True: the candidate tower reads the e-commerce category column; "
            f"{self.dataset!r} trains no category task (its items have no such column)",
        )
        require(
            not self.category_input or "category" not in self.tasks,
            f"tasks={list(self.tasks)} names 'category' with category_input=True: the "
            "candidate tower reads the category, so no task can predict it",
        )
        unknown_weights = sorted(set(self.task_weights) - set(known))
        require(
            not unknown_weights,
            f"task_weights: unknown task(s) {unknown_weights} for {self.dataset}; "
            f"expected some of {list(known)}",
        )
        for name, weight in self.task_weights.items():
            require(weight >= 0, f"task_weights.{name}={weight} must be >= 0")
        require(self.embedding_dim >= 1, f"embedding_dim={self.embedding_dim} must be >= 1")
        require(
            self.user_history_length >= 0,
            f"user_history_length={self.user_history_length} must be >= 0 (0: no history)",
        )
        for field in ("history_dropout", "user_id_dropout", "item_id_dropout"):
            rate = getattr(self, field)
            require(rate is None or 0 <= rate < 1, f"{field}={rate} is not in [0, 1)")
        require(
            all(dim >= 1 for dim in self.tower_hidden_dims),
            f"tower_hidden_dims={list(self.tower_hidden_dims)} must all be >= 1",
        )
        require(
            all(dim <= MAX_HIDDEN_DIM for dim in self.tower_hidden_dims),
            f"tower_hidden_dims={list(self.tower_hidden_dims)} must all be <= {MAX_HIDDEN_DIM}",
        )
        dims = self.tower_hidden_dims
        num_weights = sum(a * b for a, b in itertools.pairwise(dims))
        require(
            num_weights <= MAX_HIDDEN_WEIGHTS,
            f"tower_hidden_dims={list(dims)} hold {num_weights:,} weights between layers; at "
            f"most {MAX_HIDDEN_WEIGHTS:,}",
        )
        require(
            self.retrieval_temperature > 0,
            f"retrieval_temperature={self.retrieval_temperature} must be > 0",
        )
        require(
            self.item_item_weight is None or self.item_item_weight >= 0,
            f"item_item_weight={self.item_item_weight} must be >= 0 (0: off, None: auto)",
        )
        require(
            self.item_item_recency is None or self.item_item_recency >= 0,
            f"item_item_recency={self.item_item_recency} must be >= 0 (None: fitted)",
        )
        require(
            not self.item_item_recency or self.item_item_train_weight == 0,
            f"item_item_recency={self.item_item_recency} weighs served histories, which are "
            "ordered by time; training rows' histories are not: it needs "
            f"item_item_train_weight=0 (got {self.item_item_train_weight})",
        )
        require(
            self.item_item_train_weight is None or self.item_item_train_weight >= 0,
            f"item_item_train_weight={self.item_item_train_weight} must be >= 0 "
            "(None: the served weight)",
        )
        for field in ("item_item_weight", "item_item_train_weight"):
            weight = getattr(self, field)
            require(
                weight is None or weight <= MAX_ITEM_ITEM_WEIGHT,
                f"{field}={weight} is above {MAX_ITEM_ITEM_WEIGHT:g}: the item-item scores would "
                "drown the towers' (or overflow the served scores)",
            )
        require(
            not self.item_item_train_weight or self.resolved_item_item_weight > 0,
            f"item_item_train_weight={self.item_item_train_weight} needs an item-item part "
            f"(item_item_weight={self.item_item_weight} resolves to 0 here)",
        )
        require(
            not self.item_item_weight or self.item_item_supported,
            f"item_item_weight={self.item_item_weight} reads the user history through the "
            "identity embeddings: it needs a dataset whose recipe reads histories, "
            "identity_embeddings, "
            f"use_l2_norm and user_history_length > 0 (dataset={self.dataset!r}, "
            f"identity_embeddings={self.identity_embeddings}, use_l2_norm={self.use_l2_norm}, "
            f"user_history_length={self.user_history_length})",
        )
        require(self.epochs >= 1, f"epochs={self.epochs} must be >= 1")
        require(self.batch_size >= 1, f"batch_size={self.batch_size} must be >= 1")
        require(self.learning_rate > 0, f"learning_rate={self.learning_rate} must be > 0")
        require(
            self.ema_momentum is None or 0 <= self.ema_momentum < 1,
            f"ema_momentum={self.ema_momentum} is not in [0, 1) (None: no weight averaging)",
        )
        require(
            self.index_target_recall is None or 0 < self.index_target_recall <= 1,
            f"index_target_recall={self.index_target_recall} is not in (0, 1]",
        )
        require(self.num_candidates >= 1, f"num_candidates={self.num_candidates} must be >= 1")
        require(
            0 <= self.validation_fraction < 1,
            f"validation_fraction={self.validation_fraction} is not in [0, 1)",
        )
        if self.blend is not None:
            names = ("retrieval", *self.task_names)
            unknown = sorted(set(self.blend) - set(names))
            require(
                not unknown,
                f"blend: unknown score(s) {unknown}; expected some of {list(names)}",
            )
            require(
                all(math.isfinite(weight) for weight in self.blend.values())
                and any(self.blend.values()),
                f"blend={self.blend}: weights must be finite and not all zero",
            )
        allowed = BASELINES + OPTIONAL_BASELINES
        bad = [name for name in self.baseline_names if name not in allowed]
        require(
            not bad,
            f"baselines={list(self.baseline_names)}: unknown {bad}; expected some of "
            f"{list(allowed)}",
        )
        require(
            0 <= self.attribute_holdout < 1,
            f"attribute_holdout={self.attribute_holdout} is not in [0, 1) (the share of items "
            "whose attributes are hidden in training; 0: off)",
        )
        require(
            0 <= self.cold_items < 1,
            f"cold_items={self.cold_items} is not in [0, 1) (the share of items whose "
            "interactions are removed from training; 0: off)",
        )
        require(
            "attribute_single_task" not in self.baseline_names or self.attribute_holdout > 0,
            "baselines: attribute_single_task is scored on the held-out items of "
            f"attribute_holdout, which is {self.attribute_holdout} (off)",
        )
        require(
            "tfrs_tutorial" not in self.baseline_names or self.recipe.tfds_tutorial,
            f"baselines: tfrs_tutorial is the MovieLens tutorial; dataset={self.dataset!r}",
        )
        require(
            bool(self.ks) and all(1 <= k <= MAX_K for k in self.ks),
            f"ks={list(self.ks)} must be in [1, {MAX_K:,}]",
        )
        require(
            self.num_negatives_per_user >= 0,
            f"num_negatives_per_user={self.num_negatives_per_user} must be >= 0",
        )
        require(
            self.split.method != "canonical" or self.dataset == "movielens-100k",
            f"split.method='canonical' needs dataset movielens-100k, got {self.dataset!r}",
        )
        require(
            self.split.method != "canonical" or self.max_rows == 0,
            f"split.method='canonical' reads the official fold files; max_rows={self.max_rows} "
            "must be 0",
        )

    @property
    def baseline_names(self) -> tuple[str, ...]:
        """The baselines asked for: `baselines`, or the dataset's defaults when None (on a
        large catalogue `baselines_for` leaves the dense ones out of the defaults)."""
        if self.baselines is not None:
            return self.baselines
        return default_baselines(self.dataset) if self.dataset in RECIPES else ()

    def baselines_for(self, num_items: int) -> tuple[str, ...]:
        """The baselines run on a catalogue of `num_items`: those named, or the defaults
        less `DENSE_BASELINES` above `MAX_DENSE_BASELINE_ITEMS` items."""
        if self.baselines is not None or num_items <= MAX_DENSE_BASELINE_ITEMS:
            return self.baseline_names
        return tuple(name for name in self.baseline_names if name not in DENSE_BASELINES)

    @property
    def recipe(self) -> Recipe:
        """The dataset's recipe (`tfrs_mtl.experiments.recipes`)."""
        return recipe_for(self.dataset)

    @property
    def task_names(self) -> tuple[str, ...]:
        """The trained tasks (the preset's non-optional ones when `tasks` is empty)."""
        names = self.tasks or dataset_tasks(self.dataset)
        return tuple(name for name in names if not (self.category_input and name == "category"))

    @property
    def resolved_item_id_dropout(self) -> float:
        """`item_id_dropout`, with None resolved by `category_input`."""
        if self.item_id_dropout is not None:
            return self.item_id_dropout
        return CATEGORY_INPUT_ITEM_ID_DROPOUT if self.category_input else 0.0

    def category_input_applies(self, columns: Collection[str]) -> bool:
        """Whether `category_input` can be on for data with these columns: the recipe trains
        a category task and the data has its `category` column."""
        return "category" in columns and "category" in dataset_tasks(self.dataset)

    def with_data_shape(self, columns: Collection[str], seen_once_share: float) -> ExperimentConfig:
        """This config with `category_input=None` resolved by the training rows' shape: on
        where it applies (`category_input_applies`) and `seen_once_share` (the share of
        training interactions whose item has no other,
        `tfrs_mtl.experiments.experiment_data.seen_once_share`) is at least
        `SPARSE_ITEMS_SHARE`; else off. A config that sets it is returned as it is."""
        if self.category_input is not None:
            return self
        sparse = seen_once_share >= SPARSE_ITEMS_SHARE
        return self.replace(category_input=sparse and self.category_input_applies(columns))

    @property
    def use_interest(self) -> bool:
        """Whether the opt-in `interest` task is asked for."""
        return "interest" in self.task_names

    @property
    def history_length(self) -> int:
        """The items of a training row's `user_history`: `user_history_length` where the
        recipe reads histories, else 0 (no history feature)."""
        return self.user_history_length if self.recipe.reads_history else 0

    @property
    def item_item_supported(self) -> bool:
        """Whether the item-item part applies: it reads the history through the identity
        embeddings."""
        return self.history_length > 0 and self.identity_embeddings and self.use_l2_norm

    @property
    def resolved_item_item_weight(self) -> float:
        """`item_item_weight_for` a catalogue of unknown size."""
        return self.item_item_weight_for(None)

    @property
    def fits_item_item_weight(self) -> bool:
        """Whether a run fits the item-item part's served weight on its validation carve-out
        (beside the served blend): the weight is left to the data (`item_item_weight=None`)
        and the part is served only (`item_item_train_weight=0`), so one trained model
        serves every weight."""
        return self.item_item_weight is None and self.item_item_train_weight == 0

    def item_item_weight_for(self, num_items: int | None) -> float:
        """`item_item_weight`, with None resolved by the data's shape: `DEFAULT_ITEM_ITEM_WEIGHT`
        where the part is supported and the catalogue has at most `MAX_ITEM_ITEM_ITEMS`
        items (`num_items=None`: size unknown, taken as small enough), else 0."""
        if self.item_item_weight is not None:
            return self.item_item_weight
        small = num_items is None or num_items <= MAX_ITEM_ITEM_ITEMS
        on = self.item_item_supported and small
        return DEFAULT_ITEM_ITEM_WEIGHT if on else 0.0

    def retrieval_negatives_for(self, num_items: int | None) -> str:
        """`retrieval_negatives`, with None resolved by the catalogue's size: `full_catalogue`
        up to `MAX_FULL_CATALOGUE_ITEMS` items (`num_items=None`: size unknown, taken as
        small enough), else `logq`."""
        if self.retrieval_negatives is not None:
            return self.retrieval_negatives
        small = num_items is None or num_items <= MAX_FULL_CATALOGUE_ITEMS
        return "full_catalogue" if small else "logq"

    def model_config(
        self, columns: Collection[str] | None = None, num_items: int | None = None
    ) -> MultiTaskConfig:
        """The dataset's preset `MultiTaskConfig` with this experiment's overrides.

        Args:
            columns: the data's columns, when known: features the data lacks are dropped
                (e.g. `brand` and `price` on Taobao), and so are tasks whose label it lacks.
            num_items: the catalogue's size, when known: the parts that switch on by size
                (`item_item_weight_for`) follow it.
        """
        preset = self.recipe.preset(self, self.item_item_weight_for(num_items))
        wanted = set(self.task_names)
        if columns is not None:
            # The history and the interest profile are no frame columns: the experiment
            # data builds them per split (the profile from the item class column).
            present = set(columns) | {HISTORY_FEATURE}
            if self.recipe.interest_column in present and self.use_interest:
                present.add(preset.task("interest").label_key)
            wanted = {
                task.name
                for task in preset.tasks
                if task.name in wanted and (not task.label_key or task.label_key in present)
            }
            missing = [f.name for f in preset.features.features if f.name not in present]
            preset = preset.replace(features=preset.features.without(tuple(missing)))
        tasks = tuple(
            task.replace(conditioned_on=None)
            if task.conditioned_on is not None and task.conditioned_on not in wanted
            else task
            for task in preset.tasks
            if task.name in wanted
        )
        negatives = self.retrieval_negatives_for(num_items)
        full = negatives == "full_catalogue"
        history_positives = (
            full
            and self.retrieval_positives == "history"
            and HISTORY_FEATURE in {f.name for f in preset.features.features}
        )
        tasks = tuple(
            task.replace(
                use_logq_correction=negatives == "logq",
                use_full_catalogue=full,
                remove_accidental_hits=not full,
                temperature=self.retrieval_temperature,
                positives_feature=HISTORY_FEATURE if history_positives else None,
            )
            if task.kind == "retrieval"
            else task
            for task in tasks
        )
        weights = dict(self.recipe.task_weights)
        weights.update(self.task_weights)
        tasks = tuple(
            task.replace(weight=weights[task.name]) if task.name in weights else task
            for task in tasks
        )
        # The preset's towers, with this experiment's shape (the preset decides which
        # feature, if any, each tower passes through unprojected).
        shape = {
            "hidden_dims": self.tower_hidden_dims,
            "output_dim": self.embedding_dim,
            "use_l2_norm": self.use_l2_norm,
            "use_bias_dimension": self.retrieval_item_bias and self.recipe.reads_history,
        }
        if preset.item_item_weight:
            preset = preset.replace(item_item_recency=self.item_item_recency or 0.0)
        return preset.replace(
            tasks=tasks,
            query_tower=preset.query_tower.replace(**shape),
            candidate_tower=preset.candidate_tower.replace(**shape),
            learning_rate=self.learning_rate,
            seed=self.seed,
            eval_top_k=(),
        )
