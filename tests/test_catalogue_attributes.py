"""Item-attribute tasks with `TaskConfig.loss_over="batch_and_catalogue"`: the training loss
adds a head-only term over every catalogue item, known and unknown; evaluation scores the
batch rows only."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
from test_multitask_model import _tensors, movielens_arrays

from tfrs_mtl.config import ConfigError
from tfrs_mtl.models import (
    Catalogue,
    MultiTaskConfig,
    MultiTaskModel,
    build_dataset,
    movielens_config,
)
from tfrs_mtl.models.catalogue_attributes import unknown_ids
from tfrs_mtl.tasks import TaskConfig
from tfrs_mtl.tasks.attribute import multi_hot


def _genres_over(config: MultiTaskConfig, loss_over: str, private_dim: int = 0) -> MultiTaskConfig:
    return config.replace(
        tasks=tuple(
            task.replace(loss_over=loss_over, private_embedding_dim=private_dim)
            if task.name == "genres"
            else task
            for task in config.tasks
        )
    )


def _binary_cross_entropy(labels: np.ndarray, logits: np.ndarray) -> float:
    per_class = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    return float(per_class.mean(axis=1).mean())


def _genre_loss_by_hand(model: MultiTaskModel, features: dict, labels: np.ndarray) -> float:
    task = model.config.task("genres")
    tower_output = model.candidate_tower(features, training=False)
    logits = model.side_head_logits(task, features, tower_output).numpy()
    return _binary_cross_entropy(multi_hot(tf.constant(labels), logits.shape[1]).numpy(), logits)


def test_the_training_loss_covers_every_catalogue_item_known_and_unknown() -> None:
    arrays = movielens_arrays()
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(
        _genres_over(movielens_config(embedding_dim=4), "batch_and_catalogue", 3), arrays
    )
    catalogue = model.catalogue
    assert catalogue is not None and set(catalogue.labels) == {"movie_genres"}
    # The batch holds two movies only; the catalogue term covers every movie.
    assert catalogue.num_items == len(set(arrays["movie_id"])) > 2
    first_two = np.isin(arrays["movie_id"], catalogue.keys[:2])
    batch = _tensors({name: values[first_two] for name, values in arrays.items()})
    items = {name: tf.constant(values) for name, values in catalogue.features.items()}
    labels = catalogue.labels["movie_genres"]
    known = _genre_loss_by_hand(model, items, labels)
    unknown_movies = tf.constant(unknown_ids(catalogue.features["movie_id"]))
    unknown = _genre_loss_by_hand(model, {**items, "movie_id": unknown_movies}, labels)
    expected = (known + unknown) / 2
    batch_loss = _genre_loss_by_hand(model, batch, batch["movie_genres"].numpy())
    training = model.task_losses(batch, training=True)
    np.testing.assert_allclose(float(training["genres"]), batch_loss + expected, rtol=1e-5)
    assert abs(known - unknown) > 1e-4
    evaluation = model.task_losses(batch, training=False)
    np.testing.assert_allclose(float(evaluation["genres"]), batch_loss, rtol=1e-5)


@pytest.mark.parametrize("loss_over", ["batch", "batch_and_catalogue"])
def test_the_catalogue_term_trains_the_head_alone(loss_over: str) -> None:
    arrays = movielens_arrays()
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(
        _genres_over(movielens_config(embedding_dim=4), loss_over, 3), arrays
    )
    first, *others = model.catalogue.keys
    only_first = arrays["movie_id"] == first
    batch = _tensors({name: values[only_first] for name, values in arrays.items()})
    private = model.private_embeddings["genres"].embeddings
    movie_rows = model.shared_embeddings.embedding_table("movie_id")
    with tf.GradientTape(persistent=True) as tape:
        losses = model.task_losses(batch, training=True)
    gradient = tf.convert_to_tensor(tape.gradient(losses["genres"], private)).numpy()
    trained = np.abs(gradient).sum(axis=1) > 0
    shared = tf.convert_to_tensor(tape.gradient(losses["genres"], movie_rows)).numpy()
    shared_trained = np.abs(shared).sum(axis=1) > 0
    lookup = model.shared_embeddings.lookup
    other_rows = lookup("movie_id", tf.constant(others)).numpy()
    first_row = int(lookup("movie_id", tf.constant([first])).numpy()[0])
    # The batch's movie trains both; the others train the private rows over the catalogue
    # only, and never the shared rows (those keep the interaction-weighted signal).
    assert trained[first_row] and shared_trained[first_row]
    assert trained[other_rows].all() == (loss_over == "batch_and_catalogue")
    assert trained[other_rows].any() == (loss_over == "batch_and_catalogue")
    assert not shared_trained[other_rows].any()


def test_an_unseen_movie_gets_the_catalogue_genre_frequencies() -> None:
    arrays = movielens_arrays(num_examples=96)
    # The movie id is all the candidate tower reads: an unseen movie is nothing but unknown.
    config = movielens_config(embedding_dim=4, side_features=False)
    config = config.replace(tasks=(config.task("genres"),))
    tf.keras.utils.set_random_seed(0)
    model = MultiTaskModel.from_data(_genres_over(config, "batch_and_catalogue", 3), arrays)
    model.compile_default()
    model.fit(build_dataset(arrays, 32), epochs=40, verbose=0)
    catalogue = model.catalogue
    assert catalogue is not None
    labels = catalogue.labels["movie_genres"]
    task = model.config.task("genres")
    frequencies = multi_hot(tf.constant(labels), task.num_classes).numpy().mean(axis=0)
    unseen = {"movie_id": tf.constant(["a movie never seen"])}
    logits = model.side_head_logits(task, unseen, model.candidate_tower(unseen)).numpy()[0]
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), frequencies, atol=0.1)
    # ...while the known movies keep their own genres.
    items = {name: tf.constant(values) for name, values in catalogue.features.items()}
    known = model.side_head_logits(task, items, model.candidate_tower(items)).numpy()
    expected = multi_hot(tf.constant(labels), task.num_classes).numpy() > 0.5
    np.testing.assert_array_equal(known > 0, expected)


def test_loss_over_applies_to_candidate_side_attributes_only() -> None:
    with pytest.raises(ConfigError, match="loss_over='batch_and_catalogue' only applies"):
        TaskConfig(name="rating", kind="rating", label_key="r", loss_over="batch_and_catalogue")
    with pytest.raises(ConfigError, match="loss_over='batch_and_catalogue' only applies"):
        TaskConfig(
            name="age",
            kind="attribute",
            label_key="age",
            target="regression",
            source_side="query",
            loss_over="batch_and_catalogue",
        )
    with pytest.raises(ConfigError, match="loss_over='items' must be"):
        TaskConfig(name="g", kind="attribute", label_key="g", num_classes=3, loss_over="items")
    assert movielens_config().task("genres").loss_over == "batch_and_catalogue"


def test_a_model_trained_over_the_catalogue_needs_its_labels() -> None:
    arrays = movielens_arrays()
    config = _genres_over(movielens_config(embedding_dim=4), "batch_and_catalogue")
    vocabularies, statistics, _ = MultiTaskModel.fit_inputs(config, arrays)
    with pytest.raises(ValueError, match="no catalogue"):
        MultiTaskModel(config, vocabularies, statistics, None)
    without_labels = Catalogue.from_arrays(arrays, "movie_id", ["movie_id"])
    with pytest.raises(ValueError, match=r"holds no labels \['movie_genres'\]"):
        MultiTaskModel(config, vocabularies, statistics, without_labels)
