"""Ready-made `MultiTaskConfig`s for MovieLens and e-commerce data.

Each preset removes every predicted attribute from the inputs of the tower it is predicted
from (the leakage guard would refuse the config otherwise).
"""

from __future__ import annotations

from tfrs_mtl._choices import Architecture, Weighting
from tfrs_mtl.features import FeatureSpec, ecommerce_feature_spec, movielens_feature_spec
from tfrs_mtl.features.user_history import HISTORY_FEATURE, user_history_feature
from tfrs_mtl.layers import ExpertsConfig, HeadConfig, TowerConfig
from tfrs_mtl.models.multitask_config import MultiTaskConfig
from tfrs_mtl.tasks import TaskConfig, WeightingConfig

NUM_MOVIELENS_GENRES = 21
#: The interest tasks' profile keys: a user's genre (MovieLens) or category (e-commerce)
#: distribution `[batch_size, num_classes]` (`tfrs_mtl.tasks.attach_interest_profiles`).
MOVIELENS_PROFILE_KEY = "user_genre_profile"
ECOMMERCE_PROFILE_KEY = "user_category_profile"
#: MovieLens user and rating-context features (`side_features=True`).
MOVIELENS_QUERY_SIDE_FEATURES = (
    "bucketized_user_age",
    "user_gender",
    "user_occupation_label",
    "timestamp",
)
MOVIELENS_CANDIDATE_SIDE_FEATURES = ("movie_title",)


def movielens_config(
    embedding_dim: int = 32,
    architecture: Architecture = "shared_bottom",
    weighting: Weighting = "fixed",
    retrieval_weight: float = 1.0,
    rating_weight: float = 1.0,
    genres_weight: float = 0.5,
    use_full_catalogue: bool = False,
    use_logq_correction: bool = False,
    use_rating_biases: bool = True,
    use_interest: bool = False,
    eval_top_k: tuple[int, ...] = (10, 100),
    user_history: bool = False,
    side_features: bool = True,
    temperature: float = 1.0,
    learning_rate: float = 0.01,
    tower_hidden_dims: tuple[int, ...] = (64,),
    use_l2_norm: bool = False,
    history_dropout: float = 0.0,
    history_positives: bool = False,
    use_item_bias: bool = False,
    identity_embeddings: bool = False,
    history_clusters: int = 1,
    item_item_weight: float = 0.0,
    item_item_train_weight: float | None = None,
    use_engagement: bool = False,
) -> MultiTaskConfig:
    """Retrieval + rating + genre prediction on MovieLens (TFDS feature names).

    Query tower: user id, plus with `side_features` age bucket, gender, occupation and
    timestamp, plus with `user_history` the user's training movies read through the movie id
    table (`tfrs_mtl.features.user_history`; the data must provide it:
    `tfrs_mtl.experiments` builds it, leakage-free, per split). Candidate tower: movie id
    (and title with `side_features`); `movie_genres` is the genre task's target, so it is
    excluded from the candidate features.

    The direct defaults are the TFRS tutorials' recipe (in-batch softmax, one hidden tower
    layer, learning rate 0.01) on the raw TFDS features, so that `to_feature_arrays(ratings)`
    feeds them as is. The recommended model is `tfrs_mtl.experiments.ExperimentConfig()`'s
    (what `tfrs-mtl train` and the quickstart train): this preset with that config's
    overrides, the history built per split.

    Args:
        embedding_dim: Width of every table and of the towers' output.
        architecture: Ranking stack: `shared_bottom`, `mmoe` or `ple`.
        weighting: Loss weighting method.
        retrieval_weight: Fixed weight of the retrieval loss.
        rating_weight: Fixed weight of the rating loss.
        genres_weight: Fixed weight of the genre loss.
        use_full_catalogue: Retrieval softmax over all movies (1,682 on ml-100k).
        use_logq_correction: logQ-correct in-batch retrieval logits.
        use_rating_biases: Global, user and item biases in the rating prediction.
        use_interest: Add a user-interest task predicting `user_genre_profile` (attach it
            with `tfrs_mtl.tasks.attach_interest_profiles`) from the query tower.
        eval_top_k: Full-catalogue top-k accuracy cutoffs at evaluation.
        user_history: Add the `user_history` query feature (the data must provide it).
        side_features: Add the user's age bucket, gender, occupation and rating time (query)
            and the movie title (candidate).
        temperature: Retrieval softmax temperature (cosine logits divided by it).
        learning_rate: Adam learning rate.
        tower_hidden_dims: Hidden layers of both towers (empty: a linear map).
        use_l2_norm: L2-normalise both towers' outputs (cosine logits).
        history_dropout: With `user_history`: probability that each history item is left
            out of a training step (resampled every step; `FeatureConfig.dropout`).
        history_positives: With `user_history` and `use_full_catalogue`: the history's items
            are positives of the retrieval softmax besides the row's movie
            (`TaskConfig.positives_feature`: a multinomial likelihood over the user's movies).
        use_item_bias: A learned per-movie retrieval bias, served as one more embedding
            dimension (`TowerConfig.use_bias_dimension`).
        identity_embeddings: With `user_history` and `use_l2_norm`: each tower's output also
            carries, unprojected, the pooled history (query) and the movie's own row
            (candidate) (`TowerConfig.identity_feature`): retrieval then scores the history's
            movies against the candidate's row directly, beside the MLP's projection.
        history_clusters: With `identity_embeddings`: a history of 150 or more movies is
            pooled, in the identity part, as the size-weighted directions of this many
            clusters of its movies (`TowerConfig.history_clusters`); 1: its plain mean.
        item_item_weight: With `identity_embeddings`: > 0 adds EASE's full-rank item-item
            scores of the history, fitted on the training rows, at this weight to the
            retrieval score (`MultiTaskConfig.item_item_weight`); 0: off.
        item_item_train_weight: Its weight in training steps
            (`MultiTaskConfig.item_item_train_weight`; None: the same, 0: served only).
        use_engagement: Add the engagement ranking task (`engagement_task`): did the user
            rate the movie, against movies stage 1 retrieves for them and random ones.
    """
    tasks = [
        TaskConfig(
            name="retrieval",
            kind="retrieval",
            weight=retrieval_weight,
            use_full_catalogue=use_full_catalogue,
            use_logq_correction=use_logq_correction,
            remove_accidental_hits=not use_full_catalogue,
            temperature=temperature,
            positives_feature=(
                HISTORY_FEATURE
                if history_positives and user_history and use_full_catalogue
                else None
            ),
        ),
        TaskConfig(
            name="rating",
            kind="rating",
            label_key="user_rating",
            weight=rating_weight,
            use_global_bias=use_rating_biases,
            use_user_bias=use_rating_biases,
            use_item_bias=use_rating_biases,
        ),
        TaskConfig(
            name="genres",
            kind="attribute",
            label_key="movie_genres",
            weight=genres_weight,
            target="multi_label",
            num_classes=NUM_MOVIELENS_GENRES,
            source_side="candidate",
            # The movie's normalised tower output hides part of what its row holds: the head
            # also reads the row, a movie embedding of its own holds what the shared row,
            # shaped by retrieval, cannot spare, and a head-only term over the catalogue
            # learns rarely rated and unseen movies too.
            head=HeadConfig(hidden_dims=(128,)),
            head_input="tower_and_features",
            private_embedding_dim=64,
            loss_over="batch_and_catalogue",
        ),
    ]
    if use_engagement:
        tasks.insert(1, engagement_task(HISTORY_FEATURE if user_history else None))
    if use_interest:
        tasks.append(
            TaskConfig(
                name="interest",
                kind="interest",
                label_key=MOVIELENS_PROFILE_KEY,
                weight=genres_weight,
                num_classes=NUM_MOVIELENS_GENRES,
                source_side="query",
            )
        )
    side = MOVIELENS_QUERY_SIDE_FEATURES + MOVIELENS_CANDIDATE_SIDE_FEATURES
    features = movielens_feature_spec(
        exclude=("movie_genres", *(() if side_features else side)), embedding_dim=embedding_dim
    )
    if user_history:
        history = user_history_feature("movie_id", embedding_dim).replace(dropout=history_dropout)
        features = FeatureSpec(features=(*features.features, history))
    tower = TowerConfig(
        hidden_dims=tower_hidden_dims,
        output_dim=embedding_dim,
        use_l2_norm=use_l2_norm,
        use_bias_dimension=use_item_bias,
    )
    identity = identity_embeddings and user_history and use_l2_norm
    query_tower = (
        tower.replace(identity_feature=HISTORY_FEATURE, history_clusters=history_clusters)
        if identity
        else tower
    )
    candidate_tower = tower.replace(identity_feature="movie_id") if identity else tower
    return MultiTaskConfig(
        features=features,
        tasks=tuple(tasks),
        query_tower=query_tower,
        candidate_tower=candidate_tower,
        experts=ExpertsConfig(architecture=architecture, expert_hidden_dims=(64,)),
        weighting=WeightingConfig(method=weighting),
        query_id_feature="user_id",
        candidate_id_feature="movie_id",
        eval_top_k=eval_top_k,
        learning_rate=learning_rate,
        item_item_weight=item_item_weight if identity else 0.0,
        item_item_train_weight=item_item_train_weight if identity and item_item_weight else None,
    )


def engagement_task(
    positives_feature: str | None = None, sample_weight_key: str | None = None
) -> TaskConfig:
    """The engagement ranking task (`TaskConfig` kind `engagement`): each interaction against
    `num_retrieved_negatives` items drawn from the best `retrieved_negatives_pool` that the
    model's retrieval ranks for the user and `num_random_negatives` random catalogue items.

    Args:
        positives_feature: a query-side history of the user's items, never drawn as negatives.
        sample_weight_key: the 0/1 column marking which rows are interactions (e-commerce
            `click`); None: every row is one.
    """
    return TaskConfig(
        name="engagement",
        kind="engagement",
        positives_feature=positives_feature,
        sample_weight_key=sample_weight_key,
        num_retrieved_negatives=4,
        retrieved_negatives_pool=100,
        num_random_negatives=4,
    )


def ecommerce_config(
    embedding_dim: int = 32,
    architecture: Architecture = "mmoe",
    weighting: Weighting = "fixed",
    use_esmm: bool = True,
    use_retrieval: bool = True,
    use_brand: bool = True,
    use_category: bool = True,
    use_price: bool = True,
    use_interest: bool = False,
    eval_top_k: tuple[int, ...] = (10, 100),
    use_engagement: bool = False,
    user_history: bool = False,
    history_dropout: float = 0.0,
    identity_embeddings: bool = False,
    history_clusters: int = 1,
    item_item_weight: float = 0.0,
    item_item_train_weight: float | None = None,
    category_input: bool = False,
) -> MultiTaskConfig:
    """Click / cart / purchase (+ retrieval) with category and price prediction.

    Labels are the keys `click`, `cart`, `purchase` (0/1 per impression), `category`
    (string, multi-class) and `price` (regression); both attributes are removed from the
    candidate features. With `use_esmm`, `purchase` is conditioned on `click` (ESMM). With
    `use_interest`, the query tower also predicts `user_category_profile`, the user's
    distribution over categories in their training interactions; its width (the number of
    categories) is read from the training arrays::

        users, profiles = compute_interest_profiles(
            train["user_id"][clicked], category_codes[clicked], num_categories
        )
        train = attach_interest_profiles(train, users, profiles, profile_key=ECOMMERCE_PROFILE_KEY)
        model = MultiTaskModel.from_data(ecommerce_config(use_interest=True), train)

    (`tfrs_mtl.experiments` does this per split when `ExperimentConfig.tasks` names
    `interest`.)

    Args:
        embedding_dim: Width of every table and of the towers' output.
        architecture: Ranking stack: `shared_bottom`, `mmoe` or `ple`.
        weighting: Loss weighting method.
        use_esmm: Cascade purchase on click.
        use_retrieval: Add an in-batch retrieval task (for the two-stage recommender).
        use_brand: Keep `brand` as a candidate feature (data without brands set False).
        use_category: Predict `category` (data without categories set False).
        use_price: Predict `price`, and let the ranking stack read it (data without prices
            set False).
        use_interest: Add the user-interest task (`tfrs_mtl.tasks.interest`), KL divergence
            to the user's category profile, weight 0.5.
        eval_top_k: Full-catalogue top-k accuracy cutoffs at evaluation.
        use_engagement: Add the engagement ranking task (`engagement_task`) on the clicked
            rows, against items stage 1 retrieves for the user and random ones.
        user_history, history_dropout, identity_embeddings, history_clusters,
            item_item_weight, item_item_train_weight: the query tower reads the user's
            clicked training items (`with_user_history`; the data must provide them).
        category_input: The candidate tower reads `category` as it reads `brand`, so an
            item with few or no interactions is embedded from its category; no task
            predicts the category then (`use_category` is ignored).
    """
    # Attributes are targets, not inputs (the category with `category_input`); `brand` is an
    # input when present.
    use_category = use_category and not category_input
    exclude = (() if category_input else ("category",)) + (() if use_brand else ("brand",))
    tasks = [
        TaskConfig(name="click", kind="binary", label_key="click"),
        TaskConfig(name="cart", kind="binary", label_key="cart"),
        TaskConfig(
            name="purchase",
            kind="binary",
            label_key="purchase",
            conditioned_on="click" if use_esmm else None,
        ),
    ]
    if use_category:
        tasks.append(
            TaskConfig(
                name="category",
                kind="attribute",
                label_key="category",
                target="multi_class",
                source_side="candidate",
                weight=0.5,
            )
        )
    if use_price:
        tasks.append(
            TaskConfig(
                name="price",
                kind="attribute",
                label_key="price",
                target="regression",
                source_side="candidate",
                weight=0.5,
            )
        )
    if use_interest:
        tasks.append(
            TaskConfig(
                name="interest",
                kind="interest",
                label_key=ECOMMERCE_PROFILE_KEY,
                num_classes=0,  # the profiles' width, fitted on the training arrays
                source_side="query",
                weight=0.5,
            )
        )
    if use_retrieval:
        # Only clicked impressions are retrieval positives; the rest still serve as negatives.
        retrieval = TaskConfig(
            name="retrieval",
            kind="retrieval",
            remove_accidental_hits=True,
            sample_weight_key="click",
        )
        tasks.insert(0, retrieval)
    if use_engagement:
        tasks.insert(1 if use_retrieval else 0, engagement_task(sample_weight_key="click"))
    config = MultiTaskConfig(
        # The ranking stack reads the price (purchases fall with it); the candidate tower
        # does not, so the price attribute it predicts is a prediction.
        features=ecommerce_feature_spec(
            exclude=exclude, embedding_dim=embedding_dim, use_price=use_price, ranking_price=True
        ),
        tasks=tuple(tasks),
        query_tower=TowerConfig(hidden_dims=(64,), output_dim=embedding_dim),
        candidate_tower=TowerConfig(hidden_dims=(64,), output_dim=embedding_dim),
        experts=ExpertsConfig(architecture=architecture, expert_hidden_dims=(64,)),
        weighting=WeightingConfig(method=weighting),
        query_id_feature="user_id",
        candidate_id_feature="item_id",
        eval_top_k=eval_top_k,
    )
    if not user_history:
        return config
    return with_user_history(
        config,
        history_dropout=history_dropout,
        identity_embeddings=identity_embeddings,
        history_clusters=history_clusters,
        item_item_weight=item_item_weight,
        item_item_train_weight=item_item_train_weight,
    )


def with_user_history(
    config: MultiTaskConfig,
    *,
    history_dropout: float = 0.0,
    identity_embeddings: bool = False,
    history_clusters: int = 1,
    item_item_weight: float = 0.0,
    item_item_train_weight: float | None = None,
) -> MultiTaskConfig:
    """`config` whose query tower also reads the user's training items through the
    candidate id table (the `user_history` feature, `tfrs_mtl.features.user_history`), whose
    engagement negatives avoid those items, and, with `identity_embeddings`, whose towers
    pass the pooled history (query, clustered for histories of 150 or more items into
    `history_clusters`) and the item's own row (candidate) through unprojected and
    L2-normalised, with EASE's item-item part at `item_item_weight` (0: off).
    """
    item_table = config.candidate_id_feature
    history = user_history_feature(item_table, config.features.feature(item_table).embedding_dim)
    features = FeatureSpec(
        features=(*config.features.features, history.replace(dropout=history_dropout))
    )
    tasks = tuple(
        task.replace(positives_feature=HISTORY_FEATURE) if task.kind == "engagement" else task
        for task in config.tasks
    )
    if not identity_embeddings:
        return config.replace(features=features, tasks=tasks)
    return config.replace(
        features=features,
        tasks=tasks,
        query_tower=config.query_tower.replace(
            use_l2_norm=True, identity_feature=HISTORY_FEATURE, history_clusters=history_clusters
        ),
        candidate_tower=config.candidate_tower.replace(
            use_l2_norm=True, identity_feature=item_table
        ),
        item_item_weight=item_item_weight,
        item_item_train_weight=item_item_train_weight if item_item_weight else None,
    )
