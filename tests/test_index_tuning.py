"""tune_index: reaches its target on a clustered catalogue; lists every configuration."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tfrs_mtl.serving.candidate_index import ScannUnavailableWarning, build_index
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.index_tuning import tune_index


def clustered(num_points: int, seed: int) -> np.ndarray:
    """Points around 100 fixed centres in 16 dimensions (noise comparable to the spread)."""
    centres = np.random.default_rng(0).normal(size=(100, 16)) * 2.0
    rng = np.random.default_rng(seed)
    labels = rng.integers(100, size=num_points)
    return (centres[labels] + rng.normal(size=(num_points, 16))).astype(np.float32)


@pytest.fixture(scope="module")
def catalogue() -> np.ndarray:
    return clustered(3000, seed=1)


@pytest.fixture(scope="module")
def held_out() -> np.ndarray:
    return clustered(200, seed=2)


def recall_at(index, queries: np.ndarray, exact: np.ndarray, k: int) -> float:
    rows = index.search(queries, k)[1].numpy()
    return np.mean([len(set(a) & set(e)) / k for a, e in zip(rows, exact, strict=True)])


def test_tuned_index_meets_its_target(catalogue, held_out) -> None:
    result = tune_index(
        catalogue,
        held_out,
        target_recall=0.95,
        k=10,
        num_leaves=(30, 60),
        leaves_to_search_fractions=(0.05, 0.2),
        num_reordering_candidates=(10, 100),
        repeats=1,
        progress=False,
    )
    # brute force + 2 trees x 2 leaves-searched x 2 reordering depths
    assert len(result.measurements) == 1 + 2 * 2 * 2
    assert result.measurements[0].config.kind == "brute_force"
    assert result.measurements[0].recall == 1.0
    assert all(m.queries_per_second > 0 for m in result.measurements)
    chosen = result.best_measurement()
    assert chosen.recall >= 0.95
    assert chosen.queries_per_second == max(
        m.queries_per_second for m in result.measurements if m.recall >= 0.95
    )
    frame = result.to_frame()
    assert len(frame) == 9 and frame["chosen"].sum() == 1
    # Builds are reproducible (one training thread), so a rebuilt index keeps its recall.
    fastest_scann = max(
        (m for m in result.measurements if m.config.kind == "scann" and m.recall >= 0.95),
        key=lambda m: m.queries_per_second,
    )
    exact = build_index(catalogue, IndexConfig(kind="brute_force")).search(held_out, 10)[1].numpy()
    rebuilt = build_index(catalogue, fastest_scann.config)
    assert recall_at(rebuilt, held_out, exact, 10) == pytest.approx(fastest_scann.recall)


def test_grid_includes_configurations_below_target(catalogue, held_out) -> None:
    result = tune_index(
        catalogue,
        held_out,
        target_recall=0.95,
        k=10,
        num_leaves=(60,),
        leaves_to_search_fractions=(1 / 60,),
        num_reordering_candidates=(10,),
        repeats=1,
        progress=False,
    )
    (scann,) = result.measurements[1:]
    assert (scann.config.num_leaves, scann.config.num_leaves_to_search) == (60, 1)
    assert scann.recall < 0.95  # one leaf of sixty misses neighbours in other leaves
    assert result.best.kind == "brute_force"  # the only configuration meeting the target


def test_without_scann_only_brute_force_is_measured(monkeypatch, catalogue, held_out) -> None:
    monkeypatch.setitem(sys.modules, "scann.scann_ops.py.scann_ops", None)
    with pytest.warns(ScannUnavailableWarning):
        result = tune_index(catalogue, held_out, repeats=1, progress=False)
    assert [m.config.kind for m in result.measurements] == ["brute_force"]
    assert result.best.kind == "brute_force"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"target_recall": 0.0}, "target_recall=0.0"), ({"k": 0}, "k=0 must be between")],
)
def test_rejects_bad_arguments(catalogue, held_out, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        tune_index(catalogue, held_out, progress=False, **kwargs)
