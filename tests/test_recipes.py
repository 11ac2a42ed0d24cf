"""Dataset recipes: one per dataset, read by the experiment code instead of dataset names."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest

from tfrs_mtl.data import DATASET_NAMES
from tfrs_mtl.evaluation.baselines.ease import DEFAULT_L2_GRID
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
    # the recipe says so: the built-in logs (integer ids), not a table of other ids.
    from tfrs_mtl.experiments.recipes import event_table_recipe, register_dataset
    from tfrs_mtl.features.user_history import HISTORY_FEATURE

    assert model.query_tower.use_bias_dimension
    shop_model = shop.model_config()
    assert shop_model.query_tower.use_bias_dimension
    assert shop_model.query_tower.identity_feature == HISTORY_FEATURE
    assert shop_model.features.feature(HISTORY_FEATURE).table == "item_id"
    assert shop_model.features.feature("user_id").dropout == shop.user_id_dropout
    # The dense item-item part comes with the history in every recipe (its served weight is
    # fitted per run); asked for, a weight applies.
    assert model.item_item_weight > 0 and shop_model.item_item_weight > 0
    assert shop.replace(item_item_weight=0.3).model_config().item_item_weight == 0.3
    register_dataset("string-ids", event_table_recipe("events.csv"), replace=True)
    plain = ExperimentConfig(dataset="string-ids", baselines=()).model_config()
    assert not plain.query_tower.use_bias_dimension
    assert HISTORY_FEATURE not in {feature.name for feature in plain.features.features}
    assert plain.features.feature("user_id").dropout == 0
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


COLUMNS = {
    "user_id": "visitor",
    "item_id": "sku",
    "behavior": "action",
    "timestamp": "ts",
    "category": "group",
}
BEHAVIOURS = {"view": "click", "basket": "cart", "order": "purchase"}


def write_events(path: Path) -> Path:
    """120 visitors, 40 skus in 4 groups; each visitor views in one group, some buy."""
    rng = np.random.default_rng(0)
    rows = []
    for visitor in range(120):
        group = visitor % 4
        for sku in rng.choice(10, size=6, replace=False) + 10 * group:
            action = rng.choice(["view", "view", "basket", "order"])
            rows.append(f"v{visitor},s{sku},{action},{1_600_000_000 + len(rows)},g{group}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("visitor,sku,action,ts,group\n" + "\n".join(rows) + "\n")
    return path


def test_a_users_own_event_table_trains_through_a_registered_recipe(tmp_path: Path) -> None:
    from tfrs_mtl.experiments import run_experiment
    from tfrs_mtl.experiments.recipes import event_table_recipe, register_dataset
    from tfrs_mtl.serving import IndexConfig

    path = write_events(tmp_path / "events.csv")
    recipe = event_table_recipe(path, COLUMNS, behavior_map=BEHAVIOURS)
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
    # The file's category column trains the category head (scored on items it trained on).
    assert 0 <= result.metrics["category/seen_items_accuracy"] <= 1
    assert "category/accuracy" not in result.metrics
    with pytest.raises(ValueError, match="already registered"):
        register_dataset("tiny-shop", recipe)
    with pytest.raises(ValueError, match="built-in dataset"):
        register_dataset("retailrocket", recipe)


def test_a_yaml_config_with_an_events_block_trains_with_tfrs_mtl_train(tmp_path: Path) -> None:
    """`tfrs-mtl train --config` on a YAML file naming a CSV (relative to the YAML) and its
    column and behaviour maps; the run's saved config registers the table again after the
    registration is gone (as in a fresh process)."""
    import yaml
    from click.testing import CliRunner

    from tfrs_mtl.cli import main
    from tfrs_mtl.experiments import recipes
    from tfrs_mtl.experiments.run_outputs import EXPERIMENT_FILE

    write_events(tmp_path / "shop" / "data" / "events.csv")
    config_file = tmp_path / "shop" / "yaml-shop.yaml"
    config_file.write_text(
        yaml.safe_dump(
            {
                "dataset": "yaml-shop",
                "events": {"path": "data/events.csv", "columns": COLUMNS, "behaviors": BEHAVIOURS},
                "epochs": 1,
                "baselines": ["popularity"],
                "blend": {"retrieval": 1.0},
                "index": {"kind": "brute_force"},
                "validate_each_epoch": False,
            }
        )
    )
    out = tmp_path / "run"
    result = CliRunner().invoke(
        main, ["train", "--config", str(config_file), "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0 <= metrics["served/purchase_recall@20"] <= 1
    assert 0 <= metrics["baselines/popularity/retrieval/recall@10"] <= 1
    saved = yaml.safe_load((out / EXPERIMENT_FILE).read_text())
    assert saved["dataset"] == "yaml-shop"
    assert saved["events"]["path"] == str((tmp_path / "shop" / "data" / "events.csv").resolve())

    recipes._REGISTERED.pop("yaml-shop")
    assert "yaml-shop" not in recipes.RECIPES
    again = ExperimentConfig.load(out / EXPERIMENT_FILE)
    assert again.dataset == "yaml-shop" and "yaml-shop" in recipes.RECIPES
    assert again.task_names == ECOMMERCE.tasks


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"events": {"path": "e.csv"}}, "'movielens-100k' is built in"),
        ({"dataset": "retailrocket", "events": {"path": "e.csv"}}, "is built in"),
        (
            {"dataset": "s", "events": {"path": "e.csv", "columns": {"sku": "item"}}},
            r"events.columns: unknown column\(s\) \['sku'\]",
        ),
        (
            {"dataset": "s", "events": {"path": "e.csv", "behaviors": {"view": "look"}}},
            "events.behaviors.view='look' is not one of",
        ),
        ({"dataset": "s", "events": {"path": " "}}, "events.path must name"),
        ({"dataset": "s", "events": {"columns": {}}}, "path"),
    ],
)
def test_a_wrong_events_block_is_refused_naming_the_field(
    data: dict[str, object], message: str
) -> None:
    from tfrs_mtl.config import ConfigError

    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.from_dict(data)


def test_an_unregistered_dataset_is_refused_with_the_way_to_register_it() -> None:
    from tfrs_mtl.config import ConfigError

    with pytest.raises(ConfigError, match="register your own with"):
        ExperimentConfig(dataset="nobody-registered-this")


def test_the_dense_baselines_leave_the_defaults_on_a_large_catalogue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """EASE (an items x items inverse) is a default baseline up to `MAX_DENSE_BASELINE_ITEMS`
    items only; named, it runs at any size; the run says what it left out."""
    from tfrs_mtl.experiments import experiment_baselines, experiment_config
    from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data

    shop = ExperimentConfig(dataset="synthetic-ecommerce")
    bound = experiment_config.MAX_DENSE_BASELINE_ITEMS
    assert shop.baselines is None and "ease" in shop.baseline_names
    assert shop.baselines_for(bound) == shop.baseline_names
    assert shop.baselines_for(bound + 1) == tuple(n for n in shop.baseline_names if n != "ease")
    named = shop.replace(baselines=("popularity", "ease"))
    assert named.baselines_for(10 * bound) == ("popularity", "ease")

    small = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=150,
        synthetic_num_items=80,
        synthetic_num_events=1_500,
    )
    data = load_experiment_data(small)
    train, test = split_experiment_data(data, small.split)
    monkeypatch.setattr(experiment_config, "MAX_DENSE_BASELINE_ITEMS", data.num_items - 1)
    monkeypatch.setattr(experiment_baselines, "MAX_DENSE_BASELINE_ITEMS", data.num_items - 1)
    lines: list[str] = []
    found = experiment_baselines.run_baselines(small, data, train, test, lines.append)
    assert "ease" not in found.names and "ease" not in found.metrics
    # Biased MF fits ratings: the shop has none, so it is not run (nor reported as run).
    assert set(found.names) == set(small.baseline_names) - {"ease", "matrix_factorization"}
    assert {"popularity", "item_knn"} <= set(found.metrics)
    assert "matrix_factorization" not in found.metrics
    assert any("ease left out of the defaults" in line for line in lines), lines
    assert not any("matrix_factorization" in line for line in lines), lines
    lines.clear()
    rating_only = small.replace(baselines=("popularity", "matrix_factorization"))
    found = experiment_baselines.run_baselines(rating_only, data, train, test, lines.append)
    assert found.names == ("popularity",) and set(found.metrics) == {"popularity"}
    assert any("matrix_factorization skipped" in line for line in lines), lines
    found = experiment_baselines.run_baselines(
        small.replace(baselines=("ease",)), data, train, test, lines.append
    )
    assert found.names == ("ease",) and "ease" in found.metrics
    # The λ it was fitted with is reported and logged: one of the validation grid's values.
    l2 = found.metrics["ease"]["selection"]["l2"]
    assert l2 in DEFAULT_L2_GRID
    assert any(f"EASE's λ {l2:g}" in line for line in lines), lines
    # Each λ fitted on the way is a progress line, the chosen one among them.
    fits = [line for line in lines if line.startswith("baselines: EASE λ ")]
    assert len(fits) >= 2 and any(f"EASE λ {l2:g}: validation NDCG@10" in f for f in fits)


def test_retrieval_negatives_follow_the_catalogue_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """A full softmax up to `MAX_FULL_CATALOGUE_ITEMS` items, in-batch with the logQ
    correction above (the run says so); a named choice holds at any size."""
    from tfrs_mtl.experiments import experiment_config, experiment_run
    from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data

    bound = experiment_config.MAX_FULL_CATALOGUE_ITEMS
    config = ExperimentConfig(dataset="synthetic-ecommerce")
    assert config.retrieval_negatives is None
    small = config.model_config(None, bound).task("retrieval")
    large = config.model_config(None, bound + 1).task("retrieval")
    assert (small.use_full_catalogue, small.use_logq_correction) == (True, False)
    assert (large.use_full_catalogue, large.use_logq_correction) == (False, True)
    named = config.replace(retrieval_negatives="full_catalogue").model_config(None, 10 * bound)
    assert named.task("retrieval").use_full_catalogue
    # The run's log names the switch.
    tiny = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=100,
        synthetic_num_items=60,
        synthetic_num_events=1_000,
        epochs=1,
        baselines=(),
        blend={"retrieval": 1.0},
        validate_each_epoch=False,
    )
    data = load_experiment_data(tiny)
    train, test = split_experiment_data(data, tiny.split)
    monkeypatch.setattr(experiment_config, "MAX_FULL_CATALOGUE_ITEMS", data.num_items - 1)
    monkeypatch.setattr(experiment_run, "MAX_FULL_CATALOGUE_ITEMS", data.num_items - 1)
    lines: list[str] = []
    monkeypatch.setattr(experiment_run, "progress_logger", lambda progress: lines.append)
    result = experiment_run.train_and_evaluate(tiny, data, train, test, progress=True)
    assert result.model.config.task("retrieval").use_logq_correction
    assert any("logQ correction" in line for line in lines), lines
