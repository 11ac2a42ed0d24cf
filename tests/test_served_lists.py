"""`served_lists`: the experiments' batched `recommend`, on a catalogue smaller than a list."""

from __future__ import annotations

import types
import warnings

import numpy as np
from servable_fixtures import FakeServableModel, make_catalogue, make_queries

from tfrs_mtl.experiments.served_evaluation import served_lists
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.recommender import Recommender


def test_lists_longer_than_the_catalogue_are_clipped_without_a_warning() -> None:
    """A run on a catalogue smaller than `num_candidates` (200) used to warn, from the
    library's own evaluation, that k exceeds the catalogue."""
    catalogue = make_catalogue(12)
    recommender = Recommender(
        FakeServableModel(num_items=12), catalogue, IndexConfig(kind="brute_force"), progress=False
    )
    data = types.SimpleNamespace(item_ids=catalogue["movie_id"].astype(str))
    exclude = [["m0"], [], ["m3", "m4"]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lists = served_lists(
            recommender,
            data,
            make_queries(["u1", "u2", "u3"]),
            np.arange(3),
            exclude,
            k=200,
            num_candidates=200,
            blend={"retrieval": 1.0},
        )
    assert lists.item_rows.shape == (3, 12)
    # Every unseen item once, the excluded ones never (their slots empty).
    assert lists.valid.sum(axis=1).tolist() == [11, 12, 10]
    for row, seen in zip(lists.item_rows, exclude, strict=True):
        served = row[row >= 0]
        assert len(set(served)) == len(served)
        assert not set(data.item_ids[served]) & set(seen)
