"""A small fake `ServableModel` of plain tf.keras layers, for the serving tests.

Users: `user_id` (string, one OOV bucket) and `user_age` (float). Items: `movie_id` (string)
and `movie_genres` (int64 `[num_items, 3]`, padded with -1). The ranker returns
`{"rating": 1 + 4 * sigmoid(.), "purchase": sigmoid(.)}` per (user, item) pair.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any

import numpy as np
import tensorflow as tf

EMBEDDING_DIM = 8
NUM_GENRES = 5
MAX_GENRES = 3


@dataclasses.dataclass(frozen=True)
class FakeConfig:
    num_users: int
    num_items: int

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class FakeVocabularies:
    users: tuple[str, ...]
    items: tuple[str, ...]

    def fingerprint(self) -> str:
        text = json.dumps({"users": self.users, "items": self.items}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


class QueryEncoder(tf.keras.Model):
    def __init__(self, users: list[str], seed: int) -> None:
        super().__init__()
        self.lookup = tf.keras.layers.StringLookup(vocabulary=users, num_oov_indices=1)
        self.embedding = tf.keras.layers.Embedding(
            len(users) + 1,
            EMBEDDING_DIM,
            embeddings_initializer=tf.keras.initializers.RandomNormal(seed=seed),
        )
        self.age = tf.keras.layers.Dense(
            EMBEDDING_DIM, kernel_initializer=tf.keras.initializers.GlorotUniform(seed=seed + 1)
        )

    def call(self, features: dict[str, tf.Tensor]) -> tf.Tensor:
        age = tf.reshape(tf.cast(features["user_age"], tf.float32), [-1, 1]) / 100.0
        return self.embedding(self.lookup(features["user_id"])) + self.age(age)


class CandidateEncoder(tf.keras.Model):
    def __init__(self, items: list[str], seed: int) -> None:
        super().__init__()
        self.lookup = tf.keras.layers.StringLookup(vocabulary=items, num_oov_indices=1)
        self.embedding = tf.keras.layers.Embedding(
            len(items) + 1,
            EMBEDDING_DIM,
            embeddings_initializer=tf.keras.initializers.RandomNormal(seed=seed + 2),
        )
        self.genres = tf.keras.layers.Embedding(
            NUM_GENRES,
            EMBEDDING_DIM,
            embeddings_initializer=tf.keras.initializers.RandomNormal(seed=seed + 3),
        )

    def call(self, features: dict[str, tf.Tensor]) -> tf.Tensor:
        ids = tf.convert_to_tensor(features["movie_id"])
        if ids.dtype != tf.string:  # integer ids are looked up as their decimal strings
            ids = tf.strings.as_string(ids)
        genres = tf.convert_to_tensor(features["movie_genres"])
        mask = tf.cast(genres >= 0, tf.float32)[:, :, tf.newaxis]
        genre_sum = tf.reduce_sum(self.genres(tf.maximum(genres, 0)) * mask, axis=1)
        return self.embedding(self.lookup(ids)) + 0.1 * genre_sum


class Ranker(tf.keras.Model):
    def __init__(self, query: QueryEncoder, candidate: CandidateEncoder, seed: int) -> None:
        super().__init__()
        self.query = query
        self.candidate = candidate
        init = tf.keras.initializers.GlorotUniform
        self.hidden = tf.keras.layers.Dense(
            16, activation="relu", kernel_initializer=init(seed=seed + 4)
        )
        self.rating = tf.keras.layers.Dense(1, kernel_initializer=init(seed=seed + 5))
        self.purchase = tf.keras.layers.Dense(1, kernel_initializer=init(seed=seed + 6))

    def call(self, features: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        query, candidate = self.query(features), self.candidate(features)
        hidden = self.hidden(tf.concat([query, candidate, query * candidate], axis=1))
        return {
            "rating": 1.0 + 4.0 * tf.sigmoid(tf.squeeze(self.rating(hidden), axis=1)),
            "purchase": tf.sigmoid(tf.squeeze(self.purchase(hidden), axis=1)),
        }


class FakeServableModel:
    """Satisfies `tfrs_mtl.serving.ServableModel` with the encoders and ranker above."""

    ranking_task_names = ("rating", "purchase")
    probability_task_names = ("purchase",)
    default_blend: dict[str, float] | None = None
    query_feature_names = ("user_id", "user_age")
    candidate_feature_names = ("movie_id", "movie_genres")
    candidate_id_feature = "movie_id"
    query_id_feature = "user_id"

    def __init__(
        self, num_users: int = 20, num_items: int = 60, seed: int = 0, integer_ids: bool = False
    ) -> None:
        users = [f"u{i}" for i in range(num_users)]
        items = [str(i) if integer_ids else f"m{i}" for i in range(num_items)]
        self.id_dtype = tf.int64 if integer_ids else tf.string
        self.query_encoder = QueryEncoder(users, seed)
        self.candidate_encoder = CandidateEncoder(items, seed)
        self.ranker = Ranker(self.query_encoder, self.candidate_encoder, seed)
        self.config = FakeConfig(num_users, num_items)
        self.vocabularies = FakeVocabularies(tuple(users), tuple(items))

    def known_candidate_ids(self, ids: np.ndarray) -> np.ndarray:
        known = set(self.vocabularies.items)
        return np.array([str(i.decode() if isinstance(i, bytes) else i) in known for i in ids])

    def feature_signature(self, side: str) -> dict[str, tf.TensorSpec]:
        if side == "query":
            return {
                "user_id": tf.TensorSpec([None], tf.string),
                "user_age": tf.TensorSpec([None], tf.float32),
            }
        return {
            "movie_id": tf.TensorSpec([None], self.id_dtype),
            "movie_genres": tf.TensorSpec([None, MAX_GENRES], tf.int64),
        }


def make_catalogue(
    num_items: int = 60, seed: int = 0, integer_ids: bool = False
) -> dict[str, np.ndarray]:
    """`movie_id` m0..m{n-1} (or 0..n-1), 1-3 genres each (padded with -1), plus an unused
    column."""
    rng = np.random.default_rng(seed)
    genres = np.full((num_items, MAX_GENRES), -1, np.int64)
    for row in range(num_items):
        count = rng.integers(1, MAX_GENRES + 1)
        genres[row, :count] = rng.choice(NUM_GENRES, size=count, replace=False)
    return {
        "movie_id": (
            np.arange(num_items, dtype=np.int64)
            if integer_ids
            else np.array([f"m{i}" for i in range(num_items)], dtype=object)
        ),
        "movie_genres": genres,
        "movie_title": np.array([f"Title {i}" for i in range(num_items)], dtype=object),
    }


def make_queries(user_ids: list[str]) -> dict[str, np.ndarray]:
    return {
        "user_id": np.array(user_ids, dtype=object),
        "user_age": np.linspace(18.0, 60.0, num=len(user_ids)).astype(np.float32),
    }
