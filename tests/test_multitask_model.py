"""`MultiTaskModel` on toy data: loss exactness, purity, shared tables, ESMM, metrics, steps."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl.models import (
    MultiTaskConfig,
    MultiTaskModel,
    build_dataset,
    ecommerce_config,
    movielens_config,
)
from tfrs_mtl.tasks import attach_interest_profiles, compute_interest_profiles


def movielens_arrays(num_examples: int = 48, seed: int = 0) -> dict[str, np.ndarray]:
    """A tiny MovieLens-shaped batch (TFDS feature names), 8 users and 12 movies, in which
    each user watches and rates two movies mostly, so every task has something to learn."""
    rng = np.random.default_rng(seed)
    users = rng.integers(1, 9, num_examples)
    movies = (users * 3 + rng.integers(0, 2, num_examples)) % 12 + 1
    genres = np.full((num_examples, 2), -1, np.int64)
    genres[:, 0] = movies % 5
    genres[movies % 2 == 0, 1] = 7
    return {
        "user_id": users.astype(str).astype(object),
        "bucketized_user_age": (18.0 + users).astype(np.float32),
        "user_gender": users % 2 == 0,
        "user_occupation_label": users % 4,
        "timestamp": rng.integers(880_000_000, 890_000_000, num_examples),
        "movie_id": movies.astype(str).astype(object),
        "movie_title": np.array([f"Movie {m} (199{m % 10})" for m in movies], dtype=object),
        "movie_genres": genres,
        "user_rating": (1 + (users + movies) % 5).astype(np.float32),
    }


def ecommerce_arrays(num_examples: int = 64, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    items = rng.integers(0, 15, num_examples)
    click = (rng.random(num_examples) < 0.5).astype(np.float32)
    return {
        "user_id": rng.integers(0, 6, num_examples).astype(str).astype(object),
        "item_id": items.astype(str).astype(object),
        "brand": np.array([f"b{i % 4}" for i in items], dtype=object),
        "category": np.array([f"c{i % 3}" for i in items], dtype=object),
        "price": (10.0 + items).astype(np.float32),
        "click": click,
        "cart": click * (rng.random(num_examples) < 0.5),
        "purchase": click * (rng.random(num_examples) < 0.3),
    }


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, tf.Tensor]:
    return next(iter(build_dataset(arrays, len(next(iter(arrays.values()))), shuffle=False)))


@pytest.fixture(scope="module")
def movielens_model() -> MultiTaskModel:
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=4), movielens_arrays())
    model.compile_default()
    return model


def _softmax_cross_entropy(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.diag(log_probabilities)


def test_compute_loss_matches_numpy_with_fixed_weights(movielens_model: MultiTaskModel) -> None:
    arrays = movielens_arrays(num_examples=16, seed=3)
    batch = _tensors(arrays)
    outputs = {k: v.numpy() for k, v in movielens_model.task_outputs(batch).items()}
    query, candidate = outputs["query_embedding"], outputs["candidate_embedding"]
    scores = query @ candidate.T
    ids = arrays["movie_id"].astype(str)
    accidental = (ids[:, None] == ids[None, :]) & ~np.eye(len(ids), dtype=bool)
    scores[accidental] = -np.inf  # remove_accidental_hits
    retrieval = _softmax_cross_entropy(scores).mean()
    rating = np.mean((outputs["rating"] - arrays["user_rating"]) ** 2)
    labels = np.zeros((16, 21))
    for row, genres in enumerate(arrays["movie_genres"]):
        labels[row, genres[genres >= 0]] = 1.0
    probabilities = 1 / (1 + np.exp(-outputs["genres"].astype(np.float64)))
    genres_loss = -np.mean(
        labels * np.log(probabilities) + (1 - labels) * np.log(1 - probabilities)
    )
    expected = 1.0 * retrieval + 1.0 * rating + 0.5 * genres_loss
    actual = float(movielens_model.compute_loss(batch, training=False))
    assert actual == pytest.approx(expected, rel=1e-5)


def test_compute_loss_does_not_mutate_its_input(movielens_model: MultiTaskModel) -> None:
    batch = _tensors(movielens_arrays(num_examples=8, seed=4))
    before = dict(batch)
    values = {key: value.numpy().copy() for key, value in batch.items()}
    movielens_model.compute_loss(batch, training=True)
    assert list(batch) == list(before)
    assert all(batch[key] is before[key] for key in before)
    for key, value in values.items():
        np.testing.assert_array_equal(batch[key].numpy(), value)


def test_each_table_is_one_variable_shared_by_every_view(movielens_model: MultiTaskModel) -> None:
    shared = movielens_model.shared_embeddings
    variables = movielens_model.trainable_variables
    tables = [v for v in variables if v.name.endswith("_embeddings:0")]
    assert len(tables) == len(shared.table_names)
    for table in shared.table_names:
        expected = shared.embedding_table(table)
        matching = [v for v in variables if v is expected]
        assert len(matching) == 1
        assert tuple(expected.shape) == (
            shared.num_rows(table),
            shared.spec.table_features()[table][0].embedding_dim,
        )
    query_ids = {id(v) for v in movielens_model.query_encoder.trainable_variables}
    ranker_ids = {id(v) for v in movielens_model.ranker.trainable_variables}
    user_table = shared.embedding_table(shared.table_name("user_id"))
    assert id(user_table) in query_ids and id(user_table) in ranker_ids
    assert len({id(v) for v in variables}) == len(variables)


def test_history_reports_losses_and_weights_and_top_k_only_in_evaluation() -> None:
    arrays = movielens_arrays()
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=4), arrays)
    model.compile_default()
    history = model.fit(build_dataset(arrays, 16), epochs=1, verbose=0).history
    for task, weight in (("retrieval", 1.0), ("rating", 1.0), ("genres", 0.5)):
        assert f"{task}/loss" in history
        assert history[f"{task}/weight"] == [pytest.approx(weight)]
    assert "rating/rmse" in history and "genres/auc" in history
    assert not any("top_" in key for key in history)
    results = model.evaluate(build_dataset(arrays, 16, shuffle=False), verbose=0, return_dict=True)
    assert 0.0 <= results["retrieval/top_10_accuracy"] <= results["retrieval/top_100_accuracy"]
    assert results["retrieval/top_100_accuracy"] == 1.0  # 12 movies in the catalogue


def test_esmm_keeps_purchase_probability_below_click() -> None:
    tf.keras.utils.set_random_seed(1)
    arrays = ecommerce_arrays()
    model = MultiTaskModel.from_data(ecommerce_config(embedding_dim=4), arrays)
    model.compile_default()
    model.fit(build_dataset(arrays, 16), epochs=2, verbose=0)
    scores = model.ranker(_tensors(arrays))
    assert set(scores) == set(model.ranking_task_names) == {"click", "cart", "purchase"}
    click, purchase = scores["click"].numpy(), scores["purchase"].numpy()
    assert np.all(purchase <= click)
    assert np.any(purchase < click)


def _train_and_compare(config: MultiTaskConfig, epochs: int = 8) -> tuple[dict, dict, dict]:
    """Per-task losses on the training data (eager) before and after a short `fit`."""
    arrays = movielens_arrays(num_examples=96)
    model = MultiTaskModel.from_data(config.replace(learning_rate=0.05), arrays)
    model.compile_default()
    batch = _tensors(arrays)
    before = {name: float(loss) for name, loss in model.task_losses(batch).items()}
    history = model.fit(build_dataset(arrays, 32, seed=1), epochs=epochs, verbose=0).history
    after = {name: float(loss) for name, loss in model.task_losses(batch).items()}
    return before, after, history


@pytest.mark.parametrize(
    "options",
    [
        {"weighting": "gradnorm", "architecture": "mmoe"},
        {"weighting": "dwa", "architecture": "ple"},
        {"weighting": "uncertainty", "use_full_catalogue": True},
        {"weighting": "uncertainty", "use_logq_correction": True},
    ],
)
def test_training_variants_lower_every_task_loss(options: dict) -> None:
    tf.keras.utils.set_random_seed(2)
    before, after, history = _train_and_compare(movielens_config(embedding_dim=8, **options))
    for task in ("retrieval", "rating", "genres"):
        assert after[task] < before[task], task
    if options["weighting"] == "dwa":  # weights move from the third epoch on
        assert history["rating/weight"][0] == 1.0
        assert history["rating/weight"][-1] != pytest.approx(1.0)
    if options["weighting"] == "gradnorm":
        weights = [history[f"{task}/weight"][-1] for task in ("retrieval", "rating", "genres")]
        assert sum(weights) == pytest.approx(3.0, rel=1e-4)
        assert weights != pytest.approx([1.2, 1.2, 0.6])  # moved from the initial weights


def test_pcgrad_training_lowers_every_task_loss() -> None:
    tf.keras.utils.set_random_seed(3)
    config = movielens_config(embedding_dim=8)
    config = config.replace(weighting=config.weighting.replace(use_pcgrad=True))
    before, after, _ = _train_and_compare(config)
    for task in ("retrieval", "rating", "genres"):
        assert after[task] < before[task], task


def test_missing_label_names_the_task_and_key(movielens_model: MultiTaskModel) -> None:
    batch = _tensors(movielens_arrays(num_examples=4))
    del batch["user_rating"]
    with pytest.raises(KeyError, match="task 'rating': label 'user_rating' is missing"):
        movielens_model.compute_loss(batch)


def _train_interest(
    model: MultiTaskModel, arrays: dict[str, np.ndarray]
) -> tuple[float, float, tuple[int, ...]]:
    """The interest loss on all of `arrays` before and after 8 epochs, and the head's shape."""
    model.compile_default()
    batch = _tensors(arrays)
    before = float(model.task_losses(batch)["interest"])
    model.fit(build_dataset(arrays, 32, seed=1), epochs=8, verbose=0)
    after = float(model.task_losses(batch)["interest"])
    return before, after, tuple(model.task_outputs(batch)["interest"].shape)


def test_user_interest_task_learns_the_genre_profile() -> None:
    tf.keras.utils.set_random_seed(4)
    arrays = movielens_arrays(num_examples=96)
    users, profiles = compute_interest_profiles(arrays["user_id"], arrays["movie_genres"], 21)
    arrays = attach_interest_profiles(arrays, users, profiles)
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=8, use_interest=True), arrays)
    before, after, shape = _train_interest(model, arrays)
    assert after < before
    assert shape == (96, 21)


def test_ecommerce_interest_head_is_as_wide_as_the_training_profiles() -> None:
    tf.keras.utils.set_random_seed(4)
    arrays = ecommerce_arrays(num_examples=96)
    codes = np.array([int(category[1:]) for category in arrays["category"]])
    clicked = arrays["click"] > 0
    users, profiles = compute_interest_profiles(arrays["user_id"][clicked], codes[clicked], 3)
    arrays = attach_interest_profiles(arrays, users, profiles, profile_key="user_category_profile")
    config = ecommerce_config(embedding_dim=8, use_interest=True)
    assert config.task("interest").num_classes == 0  # read from the data
    model = MultiTaskModel.from_data(config, arrays)
    assert model.task_statistics.profile_widths == {"interest": 3}
    before, after, shape = _train_interest(model, arrays)
    assert after < before
    assert shape == (96, 3)
    assert "interest" not in [task.name for task in ecommerce_config().tasks]


def test_reported_losses_are_epoch_means(movielens_model: MultiTaskModel) -> None:
    arrays = movielens_arrays(num_examples=40, seed=7)
    dataset = build_dataset(arrays, 16, shuffle=False)  # batches of 16, 16, 8
    results = movielens_model.evaluate(dataset, verbose=0, return_dict=True)
    per_batch = [
        {name: float(loss) for name, loss in movielens_model.task_losses(batch).items()}
        for batch in dataset
    ]
    for task in ("retrieval", "rating", "genres"):
        # Keras' Mean averages per batch (unweighted by batch size), as evaluate reports.
        expected = np.mean([losses[task] for losses in per_batch])
        assert results[f"{task}/loss"] == pytest.approx(expected, rel=1e-5)
    combined = np.mean(
        [losses["retrieval"] + losses["rating"] + 0.5 * losses["genres"] for losses in per_batch]
    )
    assert results["loss"] == pytest.approx(combined, rel=1e-5)


@pytest.mark.parametrize("head_input", ["tower", "tower_and_features"])
def test_attribute_head_reads_the_tower_output_and_optionally_its_features(
    head_input: str,
) -> None:
    config = movielens_config(embedding_dim=4)
    config = config.replace(
        tasks=tuple(
            task.replace(head_input=head_input, private_embedding_dim=0)
            if task.name == "genres"
            else task
            for task in config.tasks
        )
    )
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(config, movielens_arrays())
    batch = _tensors(movielens_arrays(num_examples=8, seed=5))
    outputs = model.task_outputs(batch)
    tower_output = outputs["candidate_embedding"]
    source = tower_output
    if head_input == "tower_and_features":
        source = tf.concat([tower_output, model.candidate_tower.encoder(batch)], axis=-1)
    head = model.side_heads["genres"]
    assert head.network.weights[0].shape[0] == source.shape[1]
    np.testing.assert_allclose(outputs["genres"].numpy(), head(source).numpy(), rtol=1e-5)
    np.testing.assert_allclose(
        model.side_head_logits(config.task("genres"), batch, tower_output).numpy(),
        outputs["genres"].numpy(),
        rtol=1e-6,
    )


def _with_private_genres(config: MultiTaskConfig, dim: int) -> MultiTaskConfig:
    return config.replace(
        tasks=tuple(
            task.replace(private_embedding_dim=dim) if task.name == "genres" else task
            for task in config.tasks
        )
    )


def test_a_private_embedding_of_the_movie_id_is_read_by_its_head_alone() -> None:
    config = _with_private_genres(movielens_config(embedding_dim=4), 3)
    tf.keras.utils.set_random_seed(0)
    arrays = movielens_arrays()
    model = MultiTaskModel.from_data(config, arrays)
    private = model.private_embeddings["genres"]
    assert private.embeddings.shape == (
        model.shared_embeddings.num_rows(model.shared_embeddings.table_name("movie_id")),
        3,
    )
    # Zeros until the head's loss reaches a row: an item it never trained on reads nothing.
    assert not np.any(private.embeddings.numpy())
    batch = _tensors(movielens_arrays(num_examples=8, seed=5))
    outputs = model.task_outputs(batch)
    tower_output = outputs["candidate_embedding"]
    rows = model.shared_embeddings.lookup("movie_id", batch["movie_id"])
    source = tf.concat(
        [
            tower_output,
            model.candidate_tower.encoder(batch),
            tf.gather(private.embeddings, rows),
        ],
        axis=-1,
    )
    head = model.side_heads["genres"]
    assert head.network.weights[0].shape[0] == source.shape[1]
    np.testing.assert_allclose(outputs["genres"].numpy(), head(source).numpy(), rtol=1e-5)
    # Only the genre loss trains it; the genre loss still trains the shared movie rows.
    movie_rows = model.shared_embeddings.embedding_table("movie_id")
    with tf.GradientTape(persistent=True) as tape:
        losses = model.task_losses(batch, training=True)
    for name in ("retrieval", "rating"):
        assert tape.gradient(losses[name], private.embeddings) is None
    genre_gradient = tf.convert_to_tensor(tape.gradient(losses["genres"], private.embeddings))
    assert float(tf.reduce_sum(tf.abs(genre_gradient))) > 0
    shared_gradient = tf.convert_to_tensor(tape.gradient(losses["genres"], movie_rows))
    assert float(tf.reduce_sum(tf.abs(shared_gradient))) > 0
    # Without it, the model has no such layer and the head reads the two other parts.
    plain = MultiTaskModel.from_data(
        _with_private_genres(movielens_config(embedding_dim=4), 0), arrays
    )
    assert plain.private_embeddings == {}
    assert plain.side_heads["genres"].network.weights[0].shape[0] == source.shape[1] - 3


def test_private_embeddings_apply_to_attribute_and_interest_heads_only() -> None:
    from tfrs_mtl.config import ConfigError
    from tfrs_mtl.tasks import TaskConfig

    with pytest.raises(ConfigError, match="private_embedding_dim=8 only applies"):
        TaskConfig(name="rating", kind="rating", label_key="r", private_embedding_dim=8)
    with pytest.raises(ConfigError, match="private_embedding_dim=-1 must be >= 0"):
        TaskConfig(
            name="genres", kind="attribute", label_key="g", num_classes=3, private_embedding_dim=-1
        )


def test_the_movielens_genre_head_reads_the_movie_row_beside_its_tower_output() -> None:
    genres = movielens_config().task("genres")
    assert genres.head_input == "tower_and_features"
    assert genres.private_embedding_dim == 64


def test_head_input_applies_to_attribute_and_interest_heads_only() -> None:
    from tfrs_mtl.config import ConfigError
    from tfrs_mtl.tasks import TaskConfig

    with pytest.raises(ConfigError, match="head_input='tower_and_features' only applies"):
        TaskConfig(name="rating", kind="rating", label_key="r", head_input="tower_and_features")
    with pytest.raises(ConfigError, match="head_input='mlp' must be"):
        TaskConfig(name="genres", kind="attribute", label_key="g", num_classes=3, head_input="mlp")
