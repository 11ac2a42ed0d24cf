"""The TFRS "Multi-task recommenders" tutorial model, as published, for comparison.

Recipe (tensorflow.org/recommenders/examples/multitask): 32-d embeddings of `user_id` and
`movie_title` from `StringLookup` vocabularies (all user ids of the ratings, all unique movie
titles), a rating MLP 256-128-1 on the concatenated embeddings, `tfrs.tasks.Ranking(MSE,
RMSE)` plus `tfrs.tasks.Retrieval(FactorizedTopK(candidates=movies.batch(128).map(movie_model)))`,
loss = rating_weight * rating loss + retrieval_weight * retrieval loss, Adagrad(0.1),
`train.shuffle(100_000).batch(8192).cache()`, 3 epochs.

One deliberate difference: the tutorial's `compute_loss` pops `user_rating` from its input;
here it is read, so the input is not mutated (the model never reads it otherwise).

The fitted model exposes query and candidate embeddings and rating predictions, so the
library's own evaluation (`evaluate_full_ranking`, `top100_hit`, `rmse`) scores it exactly as
it scores the library's models.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import tensorflow as tf
import tensorflow_recommenders as tfrs

from tfrs_mtl.evaluation.full_ranking import Pairs
from tfrs_mtl.evaluation.pointwise_metrics import mae, rmse
from tfrs_mtl.evaluation.ranking_metrics import DEFAULT_KS
from tfrs_mtl.evaluation.retrieval_metrics import retrieval_metrics

EMBEDDING_DIM = 32


class TutorialMultitaskModel(tfrs.models.Model):
    """`MovielensModel` of the TFRS multitask tutorial.

    Args:
        unique_user_ids: `[num_users]` user id vocabulary (bytes or str).
        unique_movie_titles: `[num_titles]` movie title vocabulary.
        candidate_titles: `[num_candidates]` titles of every movie (duplicates kept, as the
            tutorial's `movies` dataset), the candidates of the FactorizedTopK metric.
        rating_weight: weight of the rating loss.
        retrieval_weight: weight of the retrieval loss.
    """

    def __init__(
        self,
        unique_user_ids: np.ndarray,
        unique_movie_titles: np.ndarray,
        candidate_titles: np.ndarray,
        rating_weight: float = 1.0,
        retrieval_weight: float = 1.0,
    ) -> None:
        super().__init__()
        self.movie_model = tf.keras.Sequential(
            [
                tf.keras.layers.StringLookup(vocabulary=unique_movie_titles, mask_token=None),
                tf.keras.layers.Embedding(len(unique_movie_titles) + 1, EMBEDDING_DIM),
            ]
        )
        self.user_model = tf.keras.Sequential(
            [
                tf.keras.layers.StringLookup(vocabulary=unique_user_ids, mask_token=None),
                tf.keras.layers.Embedding(len(unique_user_ids) + 1, EMBEDDING_DIM),
            ]
        )
        self.rating_model = tf.keras.Sequential(
            [
                tf.keras.layers.Dense(256, activation="relu"),
                tf.keras.layers.Dense(128, activation="relu"),
                tf.keras.layers.Dense(1),
            ]
        )
        movies = tf.data.Dataset.from_tensor_slices(candidate_titles)
        self.rating_task = tfrs.tasks.Ranking(
            loss=tf.keras.losses.MeanSquaredError(),
            metrics=[tf.keras.metrics.RootMeanSquaredError()],
        )
        self.retrieval_task = tfrs.tasks.Retrieval(
            metrics=tfrs.metrics.FactorizedTopK(candidates=movies.batch(128).map(self.movie_model))
        )
        self.rating_weight = rating_weight
        self.retrieval_weight = retrieval_weight

    def call(self, features: Mapping[str, tf.Tensor]) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """`(user [batch, 32], movie [batch, 32], predicted rating [batch, 1])`."""
        user_embeddings = self.user_model(features["user_id"])
        movie_embeddings = self.movie_model(features["movie_title"])
        rating = self.rating_model(tf.concat([user_embeddings, movie_embeddings], axis=1))
        return user_embeddings, movie_embeddings, rating

    def compute_loss(self, features: Mapping[str, tf.Tensor], training: bool = False) -> tf.Tensor:
        user_embeddings, movie_embeddings, rating_predictions = self(features)
        rating_loss = self.rating_task(
            labels=features["user_rating"], predictions=rating_predictions
        )
        retrieval_loss = self.retrieval_task(user_embeddings, movie_embeddings)
        return self.rating_weight * rating_loss + self.retrieval_weight * retrieval_loss


@dataclass(frozen=True)
class TutorialRun:
    """A trained tutorial model with numpy views for the library's evaluation.

    Attributes:
        model: the trained `TutorialMultitaskModel`.
        history: Keras `History.history` of training.
    """

    model: TutorialMultitaskModel
    history: dict[str, list[float]]

    def query_embeddings(self, user_ids: np.ndarray) -> np.ndarray:
        """`[n, 32]` float32 user embeddings."""
        return self.model.user_model(tf.constant(user_ids)).numpy()

    def candidate_embeddings(self, movie_titles: np.ndarray) -> np.ndarray:
        """`[n, 32]` float32 movie embeddings."""
        return self.model.movie_model(tf.constant(movie_titles)).numpy()

    def predict_rating(self, user_ids: np.ndarray, movie_titles: np.ndarray) -> np.ndarray:
        """`[n]` float32 predicted ratings of `(user, movie)` pairs."""
        _, _, rating = self.model(
            {"user_id": tf.constant(user_ids), "movie_title": tf.constant(movie_titles)}
        )
        return rating.numpy()[:, 0]

    def tutorial_metrics(self, test: Mapping[str, np.ndarray]) -> dict[str, float]:
        """The tutorial's own `model.evaluate(test.batch(4096))`, e.g.
        `factorized_top_k/top_100_categorical_accuracy` and `root_mean_squared_error`."""
        dataset = tf.data.Dataset.from_tensor_slices(_tutorial_features(test)).batch(4096)
        return {
            name: float(value)
            for name, value in self.model.evaluate(dataset, return_dict=True, verbose=0).items()
        }


def _tutorial_features(frame: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "movie_title": np.asarray(frame["movie_title"]),
        "user_id": np.asarray(frame["user_id"]),
        "user_rating": np.asarray(frame["user_rating"], dtype=np.float32),
    }


def train_tfrs_tutorial(
    train: Mapping[str, np.ndarray],
    *,
    unique_user_ids: np.ndarray,
    candidate_titles: np.ndarray,
    rating_weight: float = 1.0,
    retrieval_weight: float = 1.0,
    epochs: int = 3,
    batch_size: int = 8192,
    learning_rate: float = 0.1,
    seed: int = 42,
) -> TutorialRun:
    """Trains the tutorial model on `train` (in its given order, as the tutorial's split).

    Args:
        train: `movie_title`, `user_id`, `user_rating` arrays `[num_train]`.
        unique_user_ids: the user vocabulary (the tutorial takes every user of the ratings).
        candidate_titles: the title of every movie; its unique values are the title
            vocabulary and all of it the FactorizedTopK candidates.
        rating_weight: weight of the rating loss (tutorial's joint model: 1.0).
        retrieval_weight: weight of the retrieval loss (tutorial's joint model: 1.0).
        epochs: training epochs (3).
        batch_size: training batch size (8192).
        learning_rate: Adagrad learning rate (0.1).
        seed: `tf.random.set_seed` before building the pipeline and model (the tutorial sets
            42 before its split and never again).

    Returns:
        A `TutorialRun`.
    """
    tf.random.set_seed(seed)
    model = TutorialMultitaskModel(
        np.unique(np.asarray(unique_user_ids)),
        np.unique(np.asarray(candidate_titles)),
        np.asarray(candidate_titles),
        rating_weight=rating_weight,
        retrieval_weight=retrieval_weight,
    )
    model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate))
    dataset = tf.data.Dataset.from_tensor_slices(_tutorial_features(train))
    cached_train = dataset.shuffle(100_000).batch(batch_size).cache()
    history = model.fit(cached_train, epochs=epochs, verbose=0)
    return TutorialRun(model, {name: list(values) for name, values in history.history.items()})


def evaluate_tfrs_tutorial(
    run: TutorialRun,
    *,
    user_ids: np.ndarray,
    movie_titles: np.ndarray,
    train_pairs: Pairs,
    test_pairs: tuple[np.ndarray, np.ndarray],
    test_ratings: np.ndarray | None = None,
    ks: Sequence[int] = DEFAULT_KS,
) -> tuple[dict[str, dict[str, float]], np.ndarray]:
    """Scores a tutorial run with the library's evaluation, like any other model.

    Args:
        run: a trained `TutorialRun`.
        user_ids: `[num_users]` raw user id of each user index.
        movie_titles: `[num_items]` title of each catalogue item index (duplicates kept).
        train_pairs: `(user_indices, item_indices)` of training, masked for ranking.
        test_pairs: `(user_indices, item_indices)` of test interactions.
        test_ratings: `[num_test]` ratings of the test pairs, for `rating/rmse` and `rating/mae`.
        ks: retrieval cut-offs.

    Returns:
        `({"retrieval": {...}, "rating": {...}}, Recall@1..100 curve [100])`.
    """
    user_ids, movie_titles = np.asarray(user_ids), np.asarray(movie_titles)
    embeddings = (run.query_embeddings(user_ids), run.candidate_embeddings(movie_titles))
    retrieval = retrieval_metrics(embeddings, train_pairs, test_pairs, ks=ks)
    metrics = {"retrieval": retrieval.metrics}
    if test_ratings is not None:
        users, items = (np.asarray(indices, dtype=np.int64) for indices in test_pairs)
        predicted = run.predict_rating(user_ids[users], movie_titles[items])
        metrics["rating"] = {
            "rmse": rmse(test_ratings, predicted),
            "mae": mae(test_ratings, predicted),
        }
    return metrics, retrieval.recall_curve
