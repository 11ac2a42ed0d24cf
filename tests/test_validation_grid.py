"""`grid_on_validation`: every value of the grid, or a climb along it from a start."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tfrs_mtl.evaluation.baselines import validation_grid

GRID = (10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0)


def _search(
    monkeypatch: pytest.MonkeyPatch,
    curve: dict[float, float],
    start: float | None,
    on_score=None,
) -> tuple[float, dict[float, float], list[float]]:
    """Runs the search with each value's validation NDCG@10 read from `curve`; returns the
    choice, the scores reported and the values fitted, in order."""
    fitted: list[float] = []

    def evaluate(score_fn, *args, **kwargs):  # the "score function" is the value itself
        fitted.append(score_fn)
        return SimpleNamespace(metrics={"ndcg@10": curve[score_fn]})

    monkeypatch.setattr(validation_grid, "evaluate_full_ranking", evaluate)
    rng = np.random.default_rng(0)
    pairs = (rng.integers(0, 30, 300), rng.integers(0, 20, 300))
    best, scores = validation_grid.grid_on_validation(
        pairs,
        GRID,
        lambda fit_sets: lambda value: value,
        num_users=30,
        num_items=20,
        start=start,
        on_score=on_score,
    )
    return best, scores, fitted


@pytest.mark.parametrize("start", GRID)
def test_a_climb_ends_on_the_best_value_of_a_unimodal_curve(
    monkeypatch: pytest.MonkeyPatch, start: float
) -> None:
    curve = {value: 1.0 - abs(np.log(value) - np.log(200.0)) / 10 for value in GRID}
    every, every_scores, every_fitted = _search(monkeypatch, curve, None)
    best, scores, fitted = _search(monkeypatch, curve, start)
    assert every == best == 200.0
    assert every_fitted == list(GRID) and every_scores == curve
    # Fitted once each: the start and its neighbours, then one value per step towards 200.
    index = GRID.index(start)
    around_start = len(GRID[max(index - 1, 0) : index + 2])
    steps = abs(index - GRID.index(200.0))
    assert len(fitted) == len(set(fitted)) == around_start + steps
    assert list(scores) == sorted(scores) and all(scores[v] == curve[v] for v in scores)


def test_a_climb_stays_where_no_neighbour_scores_higher(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two peaks: the climb from 20 ends on the lower one (the full grid finds 1000), and a
    # neighbour that only ties does not move it.
    curve = dict(zip(GRID, (0.1, 0.3, 0.3, 0.2, 0.1, 0.2, 0.5, 0.4), strict=True))
    assert _search(monkeypatch, curve, None)[0] == 1000.0
    best, scores, fitted = _search(monkeypatch, curve, 20.0)
    assert best == 20.0 and fitted == [20.0, 10.0, 50.0]
    assert set(scores) == {10.0, 20.0, 50.0}
    # From the last value it looks at its one neighbour.
    from_the_end = _search(monkeypatch, curve, 2000.0)
    assert from_the_end[:2] == (1000.0, {500.0: 0.2, 1000.0: 0.5, 2000.0: 0.4})


def test_a_start_outside_the_grid_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"start=30\.0 is not a value of the grid"):
        _search(monkeypatch, dict.fromkeys(GRID, 0.0), 30.0)


def test_each_value_is_reported_once_as_it_is_scored(monkeypatch: pytest.MonkeyPatch) -> None:
    curve = {value: 1.0 - abs(np.log(value) - np.log(200.0)) / 10 for value in GRID}
    reported: list[tuple[float, float, float]] = []
    best, scores, fitted = _search(monkeypatch, curve, 20.0, lambda *call: reported.append(call))
    assert [value for value, _, _ in reported] == fitted
    assert all(score == curve[value] and seconds >= 0 for value, score, seconds in reported)
    assert best == 200.0 and len(reported) == len(scores)
