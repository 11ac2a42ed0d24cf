"""benchmarks/ann.py on a toy catalogue: the result schema, and the exact methods are exact."""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("faiss")
pytest.importorskip("hnswlib")

sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))

import ann
from ann_report import catalogue_targets

from tfrs_mtl.serving import IndexConfig

NUM_ITEMS = 2000


@pytest.fixture(scope="module")
def catalogue() -> dict:
    rng = np.random.default_rng(1)
    candidates = ann.clustered(NUM_ITEMS, 16, rng)
    queries, tuning = ann.clustered(100, 16, rng), ann.clustered(100, 16, rng)
    # Every leaf searched and every item rescored exactly: ScaNN must return the exact top 10.
    exhaustive = IndexConfig(
        min_items_to_partition=1,
        num_leaves=40,
        num_leaves_to_search=40,
        num_reordering_candidates=NUM_ITEMS,
    )
    return ann.run_catalogue(
        "toy",
        candidates,
        queries,
        tuning,
        calls=20,
        batch_size=100,
        grid=ann.QUICK,
        extra_scann=(exhaustive,),
        log=lambda message: None,
    )


def test_every_family_is_measured_with_the_full_schema(catalogue) -> None:
    families = {point["family"] for point in catalogue["points"]}
    assert families == {
        "tfrs_brute_force",
        "scann_library",
        "scann_library_fast",
        "scann_library_arrays",
        "scann_pybind",
        "faiss_ivfpq_fastscan",
        "faiss_hnsw",
        "hnswlib",
    }
    assert catalogue["skipped"] == []
    assert (catalogue["num_items"], catalogue["dim"], catalogue["num_queries"]) == (2000, 16, 100)
    for point in catalogue["points"]:
        assert 0.0 <= point["recall_at_10"] <= 1.0
        assert point["single_qps"] > 0 and point["batched_qps"] > 0
        assert point["index_bytes"] > 0 and point["build_seconds"] >= 0
    # QUICK grid: nprobe (8, 32) x k_factor (25,); ef (16, 64) for both HNSW indexes.
    counts = {f: sum(p["family"] == f for p in catalogue["points"]) for f in families}
    assert counts["faiss_ivfpq_fastscan"] == 2 and counts["hnswlib"] == 2


def test_brute_force_and_exhaustive_scann_equal_exact_search(catalogue) -> None:
    brute = [p for p in catalogue["points"] if p["family"] == "tfrs_brute_force"]
    assert [p["recall_at_10"] for p in brute] == [1.0]
    exhaustive = [
        p
        for p in catalogue["points"]
        if p["family"] == "scann_library" and "extra" in p["settings"]["label"]
    ]
    assert len(exhaustive) == 1
    assert exhaustive[0]["settings"]["num_leaves_to_search"] == 40
    assert exhaustive[0]["recall_at_10"] == 1.0


def test_the_library_fast_path_finds_what_the_tf_op_finds(catalogue) -> None:
    def recalls(family: str) -> dict:
        return {
            tuple(sorted(p["settings"].items())): p["recall_at_10"]
            for p in catalogue["points"]
            if p["family"] == family
        }

    assert recalls("scann_library_fast") == recalls("scann_library") != {}
    assert recalls("scann_library_arrays") == recalls("scann_library")


def test_targets_compare_the_best_points_at_recall_095() -> None:
    def point(family: str, recall: float, single: float, batched: float) -> dict:
        return {
            "family": family,
            "settings": {},
            "recall_at_10": recall,
            "single_qps": single,
            "batched_qps": batched,
        }

    target = catalogue_targets(
        {
            "name": "hand",
            "points": [
                point("tfrs_brute_force", 1.0, 10.0, 100.0),
                point("scann_library", 0.90, 5000.0, 9000.0),  # below 0.95: ignored
                point("scann_library", 0.96, 250.0, 4000.0),
                point("hnswlib", 0.97, 200.0, 5000.0),
                point("faiss_hnsw", 0.80, 9000.0, 9000.0),  # below 0.95: ignored
            ],
        }
    )
    single = target["scann_library"]["single_qps"]
    assert single["best"] == 250.0 and single["speedup_over_brute_force"] == 25.0
    assert target["speedup_met"] and single["on_frontier"]
    assert not target["scann_library"]["batched_qps"]["on_frontier"]  # 4000 < hnswlib's 5000
    assert single["peers_best"] == {
        "faiss_ivfpq_fastscan": None,
        "faiss_hnsw": None,
        "hnswlib": 200.0,
    }


def test_the_dense_points_around_recall_095_share_the_builds() -> None:
    # tune_index's choices build trees on any catalogue (min_items_to_partition=1).
    tuned = IndexConfig(
        num_leaves=2000,
        num_leaves_to_search=10,
        num_reordering_candidates=100,
        min_items_to_partition=1,
    )
    tuning = SimpleNamespace(
        measurements=[SimpleNamespace(config=tuned, recall=0.99, queries_per_second=1.0)]
    )
    points = ann.scann_points(tuning, 1_000_000, ann.Grid())
    dense = {
        (c.num_leaves, c.num_leaves_to_search, c.num_reordering_candidates)
        for c, label in points
        if label == "dense"
    }
    assert dense == {
        (leaves, searched, depth)
        for leaves, searched_options, depths in (
            (1000, (5, 6, 7, 8), (100, 150)),
            (2000, (3, 4, 5, 6, 8, 10), (50, 70, 100)),
        )
        for searched in searched_options
        for depth in depths
    }
    # One build per tree (as ann_methods.library_scann groups them): beyond the default's,
    # only the manual grid's (1,000 leaves) and tune_index's choice (2,000).
    trees = {
        c.adapted_to(1_000_000).replace(num_leaves_to_search=1, num_reordering_candidates=None)
        for c, label in points
        if label != "default"
    }
    assert sorted(tree.num_leaves for tree in trees) == [1000, 2000]


def test_targets_report_tune_index_choice() -> None:
    def point(family: str, recall: float, single: float, label: str = "manual") -> dict:
        return {
            "family": family,
            "settings": {"label": label},
            "recall_at_10": recall,
            "single_qps": single,
            "batched_qps": single,
        }

    target = catalogue_targets(
        {
            "name": "hand",
            "points": [
                point("scann_library_arrays", 0.99, 150.0, "tuned@0.90+tuned@0.95"),
                point("scann_library_arrays", 0.96, 300.0),
                point("hnswlib", 0.97, 200.0),
            ],
        }
    )
    arrays = target["scann_library_arrays"]
    assert arrays["single_qps"]["best"] == 300.0 and arrays["single_qps"]["on_frontier"]
    tuned = arrays["tuned"]
    assert (tuned["recall"], tuned["single_qps"]) == (0.99, 150.0)
    assert not tuned["single_qps_on_frontier"]  # 150 < hnswlib's 200
    margin = arrays["single_qps"]["at_margin"]  # at recall >= 0.96: the same points pass
    assert (margin["best"], margin["recall"], margin["on_frontier"]) == (300.0, 0.96, True)
    assert target["scann_library"]["tuned"] is None  # no such point measured
