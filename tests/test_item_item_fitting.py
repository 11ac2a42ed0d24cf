"""`fit_item_item_weight`: the item-item part's served weight fitted on held-out rows. Its
scores (towers and part computed apart) against the model's own served embeddings at each
weight, the choice, `ItemItemPart.set_weight`, and a run that fits, reports and serves it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.evaluation import evaluate_full_ranking
from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    fit_split_state,
    load_experiment_data,
    split_experiment_data,
    validation_carve_out,
)
from tfrs_mtl.experiments.experiment_run import run_experiment, train_model
from tfrs_mtl.experiments.item_item_fitting import fit_item_item_weight
from tfrs_mtl.experiments.model_evaluation import item_catalogue, user_table
from tfrs_mtl.models import MultiTaskModel

SHOP = {
    "dataset": "synthetic-ecommerce",
    "synthetic_num_users": 120,
    "synthetic_num_items": 60,
    "synthetic_num_events": 3000,
    "epochs": 1,
    "baselines": (),
    "validate_each_epoch": False,
    "index": {"kind": "brute_force"},
}


@pytest.fixture(scope="module")
def carved() -> tuple[Any, Any, np.ndarray, np.ndarray]:
    config = ExperimentConfig.from_dict(SHOP)
    data = load_experiment_data(config)
    train, _ = split_experiment_data(data, config.split)
    fit, held = validation_carve_out(data, train, config.split, 0.2, config.seed)
    fit_split_state(data, fit)
    model = train_model(config, data, fit, progress=False).model
    return model, data, fit, held


def _served_ndcg(model: Any, data: Any, fit: np.ndarray, held: np.ndarray) -> float:
    """Held-out NDCG@10 of the model's own retrieval embeddings (the served dot product)."""
    query = np.asarray(model.query_encoder(user_table(data, model, fit), training=False))
    items = np.asarray(model.candidate_encoder(item_catalogue(data, model), training=False))
    result = evaluate_full_ranking(
        (query, items),
        data.pairs(fit),
        data.pairs(held),
        num_users=data.num_users,
        num_items=data.num_items,
        ks=(10,),
    )
    return float(result.metrics["ndcg@10"])


def test_each_weight_scores_what_the_model_serves_at_it(carved: Any) -> None:
    model, data, fit, held = carved
    part = model.item_item
    assert part is not None and part.train_weight == 0
    grid = (0.0, 0.5, 4.0, 32.0)
    found = fit_item_item_weight(model, data, fit, held, grid=grid, recency_grid=(0.0,))
    assert sorted(found.ndcg) == list(grid)
    try:
        for weight in grid:
            part.set_weight(weight)
            assert found.ndcg[weight] == pytest.approx(_served_ndcg(model, data, fit, held), 1e-4)
    finally:
        part.set_weight(0.5)
    # The weights score differently here (the part is not inert), and the best one is kept.
    assert len({round(n, 6) for n in found.ndcg.values()}) > 1
    assert found.ndcg[found.weight] == max(found.ndcg.values())


def test_with_recency_each_weight_scores_what_the_model_serves_at_it(carved: Any) -> None:
    model, data, fit, held = carved
    part = model.item_item
    grid = (0.0, 4.0, 32.0)
    found = fit_item_item_weight(model, data, fit, held, grid=grid, recency_grid=(1.0,))
    flat = fit_item_item_weight(model, data, fit, held, grid=grid, recency_grid=(0.0,))
    assert found.recency == 1.0 and list(found.recency_ndcg) == [1.0]
    assert part.recency == 0.0  # the fit leaves the part as it was
    try:
        part.set_recency(1.0)
        for weight in grid:
            part.set_weight(weight)
            assert found.ndcg[weight] == pytest.approx(_served_ndcg(model, data, fit, held), 1e-4)
    finally:
        part.set_weight(0.5)
        part.set_recency(0.0)
    # Recency changes what the part adds (the served histories are ordered by time).
    assert found.ndcg[0.0] == flat.ndcg[0.0] and found.ndcg[32.0] != flat.ndcg[32.0]


def test_recency_is_fitted_where_histories_are_ordered_by_time(carved: Any) -> None:
    from tfrs_mtl.experiments.item_item_fitting import RECENCY_GRID
    from tfrs_mtl.features.user_history import UserHistories

    model, data, fit, held = carved
    grid = (0.0, 4.0)
    histories = data.histories
    # The shop's rows are (user, item) pairs without one time each: unordered histories.
    assert histories.by_time is None
    untimed = fit_item_item_weight(model, data, fit, held, grid=grid)
    assert untimed.recency == 0.0 and list(untimed.recency_ndcg) == [0.0]
    users = np.repeat(np.arange(histories.num_users), np.diff(histories.offsets))
    times = np.random.default_rng(0).permutation(len(histories.items))
    timed_histories = UserHistories.fit(users, histories.items, histories.num_users, times)
    object.__setattr__(data, "histories", timed_histories)
    try:
        timed = fit_item_item_weight(model, data, fit, held, grid=grid)
    finally:
        object.__setattr__(data, "histories", histories)
    assert list(timed.recency_ndcg) == list(RECENCY_GRID)
    best = max(timed.recency_ndcg.values())
    assert timed.recency == min(r for r, n in timed.recency_ndcg.items() if n == best)
    assert timed.recency_ndcg[timed.recency] == max(timed.ndcg.values())
    assert len(set(timed.recency_ndcg.values())) > 1
    with pytest.raises(ValueError, match="recency_grid"):
        fit_item_item_weight(model, data, fit, held, grid=grid, recency_grid=(-1.0,))


def test_ties_keep_the_default_else_the_smaller_weight_and_bad_grids_are_refused(
    carved: Any,
) -> None:
    model, data, fit, held = carved
    # The part's columns zeroed: every weight ranks alike.
    matrix = model.item_item.matrix.numpy()
    model.item_item.set_matrix(np.zeros_like(matrix))
    try:
        kept = fit_item_item_weight(model, data, fit, held, grid=(2.0, 0.0, 1.0), default=1.0)
        smaller = fit_item_item_weight(model, data, fit, held, grid=(2.0, 0.0, 1.0), default=3.0)
    finally:
        model.item_item.set_matrix(matrix)
    assert len(set(kept.ndcg.values())) == 1
    assert kept.weight == 1.0 and smaller.weight == 0.0
    for grid in ((), (-1.0, 1.0)):
        with pytest.raises(ValueError, match="grid"):
            fit_item_item_weight(model, data, fit, held, grid=grid)


def test_set_weight_needs_a_part_left_out_of_training(carved: Any) -> None:
    from tfrs_mtl.layers import ItemItemPart

    model = carved[0]
    with pytest.raises(ValueError, match="weight=-1"):
        model.item_item.set_weight(-1.0)
    trained_with = ItemItemPart(
        model.shared_embeddings, "user_history", "item_id", weight=0.5, train_weight=None
    )
    with pytest.raises(ValueError, match="train_weight=0"):
        trained_with.set_weight(1.0)


def test_a_run_fits_the_weight_reports_it_and_serves_with_it(tmp_path: Path) -> None:
    config = ExperimentConfig.from_dict(SHOP)
    assert config.fits_item_item_weight
    assert not config.replace(item_item_weight=0.5).fits_item_item_weight
    assert not config.replace(item_item_train_weight=None).fits_item_item_weight
    result = run_experiment(config, tmp_path / "run", progress=False)
    weight = result.metrics["blend_fit/item_item_weight"]
    # The carve-out model's training is timed apart from the rest of the blend fit.
    assert 0 < result.metrics["blend_fit/train_seconds"] < result.metrics["seconds/blend_fit"]
    # The run's config stays as given (a re-run fits again); the saved model holds the weight.
    assert ExperimentConfig.load(tmp_path / "run" / "experiment.yaml") == config
    saved = MultiTaskModel.load_model(tmp_path / "run" / "model")
    assert saved.config.item_item_weight == weight
    recency = result.metrics["blend_fit/item_item_recency"]
    served = result.model.item_item
    if weight == 0:
        assert served is None
    else:
        assert served is not None and served.weight == weight
        assert saved.config.item_item_recency == recency == served.recency
        assert saved.item_item.recency == recency
    # A weight and recency the config fixes are served as given, and not fitted.
    fixed = run_experiment(
        config.replace(item_item_weight=0.3, item_item_recency=0.75), None, progress=False
    )
    assert "blend_fit/item_item_weight" not in fixed.metrics
    assert "blend_fit/item_item_recency" not in fixed.metrics
    assert (fixed.model.item_item.weight, fixed.model.item_item.recency) == (0.3, 0.75)
    assert config.replace(item_item_weight=0.3).model_config().item_item_recency == 0.0
    with pytest.raises(ConfigError, match="item_item_train_weight=0"):
        config.replace(item_item_recency=0.5, item_item_train_weight=None)


def test_the_carve_out_model_is_freed_once_the_blend_is_fitted(monkeypatch: Any) -> None:
    import weakref

    from tfrs_mtl.experiments import experiment_run

    models: list[Any] = []
    train = experiment_run.train_model

    def keep_a_weak_reference(*args: Any, **kwargs: Any) -> Any:
        result = train(*args, **kwargs)
        models.append(weakref.ref(result.model))
        return result

    monkeypatch.setattr(experiment_run, "train_model", keep_a_weak_reference)
    config = ExperimentConfig.from_dict(SHOP)
    data = load_experiment_data(config)
    positions, _ = split_experiment_data(data, config.split)
    experiment_run.fit_served_blend(config, data, positions, progress=False)
    assert len(models) == 1 and models[0]() is None
