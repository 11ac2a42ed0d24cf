"""Dataset recipes: one per dataset, read by the experiment code instead of dataset names."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.data import DATASET_NAMES
from tfrs_mtl.experiments import ExperimentConfig, dataset_tasks
from tfrs_mtl.experiments.experiment_config import BASELINES, default_baselines
from tfrs_mtl.experiments.recipes import ECOMMERCE, MOVIELENS, RECIPES, recipe_for

PACKAGE = Path(__file__).resolve().parents[1] / "tfrs_mtl"


def test_every_dataset_has_a_recipe_and_an_unknown_one_is_named() -> None:
    assert set(RECIPES) == set(DATASET_NAMES)
    assert recipe_for("movielens-1m") is MOVIELENS
    assert recipe_for("taobao-userbehavior") is ECOMMERCE
    with pytest.raises(ValueError, match="no recipe for dataset 'netflix'"):
        recipe_for("netflix")


def test_the_recipe_decides_tasks_weights_architecture_and_baselines() -> None:
    movies, shop = ExperimentConfig(), ExperimentConfig(dataset="retailrocket", baselines=())
    assert dataset_tasks("movielens-100k") == MOVIELENS.tasks == movies.task_names
    assert shop.task_names == ECOMMERCE.tasks
    model = movies.model_config()
    assert model.task("rating").weight == MOVIELENS.task_weights["rating"]
    assert model.task("genres").weight == MOVIELENS.task_weights["genres"]
    assert model.architecture == MOVIELENS.architecture
    assert shop.model_config().architecture == ECOMMERCE.architecture
    # The query tower reads a history, and the item bias dimension comes with it, only where
    # the recipe says so.
    assert model.query_tower.use_bias_dimension
    assert not shop.model_config().query_tower.use_bias_dimension
    assert default_baselines("movielens-1m") == BASELINES
    assert "tfrs_tutorial" not in default_baselines("synthetic-ecommerce")


def test_the_experiment_code_never_branches_on_a_dataset_family() -> None:
    """Outside the recipes, no module of the experiments or the CLI asks whether a dataset
    is MovieLens (by its name list or a name prefix)."""
    offenders = []
    for folder in ("experiments", "cli"):
        for path in sorted((PACKAGE / folder).glob("*.py")):
            if path.name == "recipes.py":
                continue
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id == "MOVIELENS_NAMES":
                    offenders.append(f"{path.name}:{node.lineno} MOVIELENS_NAMES")
                if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "startswith":
                    args = [a.value for a in node.args if isinstance(a, ast.Constant)]
                    if any(str(a).startswith("movie") for a in args):
                        offenders.append(f"{path.name}:{node.lineno} startswith{args}")
    assert not offenders, offenders


def test_a_users_own_event_table_trains_through_a_registered_recipe(tmp_path: Path) -> None:
    from tfrs_mtl.experiments import run_experiment
    from tfrs_mtl.experiments.recipes import event_table_recipe, register_dataset
    from tfrs_mtl.serving import IndexConfig

    # 120 visitors, 40 skus in 4 groups; each visitor views in one group, some buy.
    rng = np.random.default_rng(0)
    rows = []
    for visitor in range(120):
        group = visitor % 4
        for sku in rng.choice(10, size=6, replace=False) + 10 * group:
            action = rng.choice(["view", "view", "basket", "order"])
            rows.append(f"v{visitor},s{sku},{action},{1_600_000_000 + len(rows)},g{group}")
    path = tmp_path / "events.csv"
    path.write_text("visitor,sku,action,ts,group\n" + "\n".join(rows) + "\n")
    recipe = event_table_recipe(
        path,
        {
            "user_id": "visitor",
            "item_id": "sku",
            "behavior": "action",
            "timestamp": "ts",
            "category": "group",
        },
        behavior_map={"view": "click", "basket": "cart", "order": "purchase"},
    )
    register_dataset("tiny-shop", recipe, replace=True)
    config = ExperimentConfig(
        dataset="tiny-shop",
        epochs=1,
        baselines=("popularity",),
        blend={"retrieval": 1.0},
        index=IndexConfig(kind="brute_force"),
        validate_each_epoch=False,
    )
    assert config.task_names == ECOMMERCE.tasks
    result = run_experiment(config, None, progress=False)
    assert 0 <= result.metrics["served/recall@10"] <= 1
    assert "served/purchase_recall@20" in result.metrics
    assert 0 <= result.metrics["category/accuracy"] <= 1  # the file's category column
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("tiny-shop", recipe)
    with pytest.raises(ValueError, match="built-in dataset"):
        register_dataset("retailrocket", recipe)


def test_an_unregistered_dataset_is_refused_with_the_way_to_register_it() -> None:
    from tfrs_mtl.config import ConfigError

    with pytest.raises(ConfigError, match="register your own with"):
        ExperimentConfig(dataset="nobody-registered-this")
