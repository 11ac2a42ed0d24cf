"""`tfrs_mtl.pipelines.beam_recommend` on the DirectRunner equals the in-process recommender.

A toy MovieLens-shaped model (40 users, 300 movies) is trained for one epoch and saved; the
pipeline reads the catalogue (shuffled) and the users as JSONL, embeds and indexes the
catalogue with ScaNN, and recommends 10 items per user. Expected: exactly the item ids, and
the scores within float32 round-off, of `Recommender(model, catalogue in id order)`.

Needs Apache Beam (`pip install '.[beam]'` in its own venv: see docs/beam.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

beam_recommend = pytest.importorskip("tfrs_mtl.pipelines.beam_recommend", exc_type=ImportError)

from tfrs_mtl.models import MultiTaskModel, build_dataset, movielens_config  # noqa: E402
from tfrs_mtl.serving import IndexConfig, Recommender  # noqa: E402

NUM_USERS, NUM_MOVIES, K = 40, 300, 10
INDEX = IndexConfig(
    min_items_to_partition=1, num_leaves=10, num_leaves_to_search=3, min_items_per_leaf=10
)
QUERY_FEATURES = (
    "user_id",
    "bucketized_user_age",
    "user_gender",
    "user_occupation_label",
    "timestamp",
)


def _arrays(num_examples: int = 1200, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    users = rng.integers(1, NUM_USERS + 1, num_examples)
    users[:NUM_USERS] = np.arange(1, NUM_USERS + 1)  # every user appears
    movies = (users * 7 + rng.integers(0, 40, num_examples)) % NUM_MOVIES + 1
    movies[:NUM_MOVIES] = np.arange(1, NUM_MOVIES + 1)  # every movie appears
    genres = np.full((num_examples, 2), -1, np.int64)
    genres[:, 0] = movies % 5
    return {
        "user_id": users.astype(str).astype(object),
        "bucketized_user_age": (18.0 + users % 30).astype(np.float32),
        "user_gender": users % 2 == 0,
        "user_occupation_label": users % 4,
        "timestamp": 880_000_000 + users * 1000,
        "movie_id": movies.astype(str).astype(object),
        "movie_title": np.array([f"Movie {m}" for m in movies], dtype=object),
        "movie_genres": genres,
        "user_rating": (1 + (users + movies) % 5).astype(np.float32),
    }


def _first_rows(arrays: dict[str, np.ndarray], key: str, names: tuple[str, ...]) -> dict:
    _, first = np.unique(arrays[key].astype(str), return_index=True)
    return {name: arrays[name][first] for name in names}


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[MultiTaskModel, Path]:
    tf.keras.utils.set_random_seed(0)
    arrays = _arrays()
    model = MultiTaskModel.from_data(movielens_config(embedding_dim=8), arrays)
    model.compile_default()
    model.fit(build_dataset(arrays, 128), epochs=1, verbose=0)
    model_dir = tmp_path_factory.mktemp("beam") / "model"
    model.save_model(model_dir)
    return model, model_dir


def test_pipeline_output_equals_the_in_process_recommender(
    trained: tuple[MultiTaskModel, Path], tmp_path: Path
) -> None:
    model, model_dir = trained
    arrays = _arrays()
    catalogue = _first_rows(arrays, "movie_id", ("movie_id", "movie_title"))  # id order
    users = _first_rows(arrays, "user_id", QUERY_FEATURES)
    shuffled = np.random.default_rng(1).permutation(len(catalogue["movie_id"]))
    beam_recommend.write_jsonl({k: v[shuffled] for k, v in catalogue.items()}, tmp_path / "items")
    beam_recommend.write_jsonl(users, tmp_path / "users")

    beam_recommend.run_pipeline(
        model_dir,
        tmp_path / "items",
        tmp_path / "users",
        tmp_path / "export",
        tmp_path / "out",
        k=K,
        index_config=INDEX,
        num_shards=1,
    )

    lines = (tmp_path / "out-00000-of-00001.jsonl").read_text().splitlines()
    records = {record["user_id"]: record for record in map(json.loads, lines)}
    assert sorted(records) == sorted(users["user_id"])
    manifest = json.loads((tmp_path / "export" / "manifest.json").read_text())
    assert manifest["built_index_config"]["kind"] == "scann"
    assert manifest["catalogue"]["num_items"] == NUM_MOVIES

    expected = Recommender(model, catalogue, INDEX, progress=False).recommend(users, k=K)
    order = [records[user] for user in users["user_id"]]
    np.testing.assert_array_equal([r["item_ids"] for r in order], expected.item_ids.astype(str))
    for name, values in (
        ("retrieval_scores", expected.retrieval_scores),
        ("final_scores", expected.final_scores),
    ):
        # Scores near 0 differ by float rounding between the batches of the two paths
        # (3.7e-9 seen on a score of -2.2e-5): an absolute tolerance on the cosine scale.
        np.testing.assert_allclose(
            [r[name] for r in order], values, rtol=1e-5, atol=1e-6, err_msg=name
        )
    np.testing.assert_allclose(
        [r["scores"]["rating"] for r in order], expected.scores["rating"], rtol=1e-5
    )


def test_feature_columns_names_the_missing_feature() -> None:
    signature = {"user_id": tf.TensorSpec([None], tf.string)}
    with pytest.raises(ValueError, match="lacks feature 'user_id'"):
        beam_recommend.feature_columns([{"age": 3}], signature)
