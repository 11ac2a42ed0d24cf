"""ServingGraph: the exported signatures' inputs and the reserved input names."""

from __future__ import annotations

import pytest
import tensorflow as tf
from servable_fixtures import FakeServableModel, make_catalogue

from tfrs_mtl.serving.candidate_index import build_index
from tfrs_mtl.serving.catalogue_encoding import prepare_catalogue
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.serving_graph import ServingGraph


def make_graph(query_signature: dict[str, tf.TensorSpec]) -> ServingGraph:
    model = FakeServableModel(num_items=10)
    columns = prepare_catalogue(model, make_catalogue(10))
    embeddings = model.candidate_encoder(columns).numpy()
    return ServingGraph(
        query_encoder=model.query_encoder,
        ranker=model.ranker,
        index=build_index(embeddings, IndexConfig(kind="brute_force")),
        columns=columns,
        candidate_id_feature="movie_id",
        candidate_feature_names=("movie_id", "movie_genres"),
        query_signature=query_signature,
        ranking_task_names=("rating", "purchase"),
    )


def test_signature_inputs_are_named_after_the_features() -> None:
    graph = make_graph(FakeServableModel().feature_signature("query"))
    concrete = graph.recommend.get_concrete_function()
    names = {spec.name for spec in tf.nest.flatten(concrete.structured_input_signature)}
    assert names == {"user_id", "user_age", "exclusions", "k", "num_candidates", "blend_weights"}
    assert concrete.structured_input_signature[0][4].shape == (3,)  # retrieval + 2 tasks


def test_feature_named_like_a_serving_input_is_refused() -> None:
    signature = {**FakeServableModel().feature_signature("query"), "k": tf.TensorSpec([None])}
    with pytest.raises(ValueError, match=r"\['k'\] clash with serving inputs"):
        make_graph(signature)
