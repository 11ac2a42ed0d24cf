"""`ExperimentConfig`: round trip, validation messages, preset overrides; `fold_splits`."""

from __future__ import annotations

import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.experiments import ExperimentConfig, fold_splits
from tfrs_mtl.experiments.experiment_config import (
    DEFAULT_ITEM_ITEM_WEIGHT,
    MAX_ITEM_ITEM_ITEMS,
)


def test_round_trips_through_yaml(tmp_path) -> None:
    config = ExperimentConfig.from_dict(
        {"dataset": "movielens-100k", "tasks": ["retrieval", "rating"], "epochs": 2,
         "split": {"method": "random", "seed": 3}, "index": {"kind": "brute_force"}}
    )  # fmt: skip
    path = tmp_path / "experiment.yaml"
    config.save(path)
    assert ExperimentConfig.load(path) == config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tasks": ("retrieval", "colour")}, "unknown task(s) ['colour']"),
        ({"tasks": ("rating",)}, "lacks 'retrieval'"),
        ({"baselines": ("oracle",)}, "unknown ['oracle']"),
        ({"dataset": "synthetic-ecommerce", "baselines": ("tfrs_tutorial",)}, "MovieLens"),
        ({"epochs": 0}, "epochs=0"),
        ({"item_item_weight": -0.1}, "item_item_weight=-0.1 must be >= 0"),
        ({"item_item_weight": 0.3, "identity_embeddings": False}, "identity_embeddings=False"),
        (
            {"item_item_weight": 0.3, "dataset": "synthetic-ecommerce", "user_history_length": 0},
            "needs a dataset whose recipe reads histories",
        ),
        (
            {"item_item_weight": 0.0, "item_item_train_weight": 0.2},
            "item_item_train_weight=0.2 needs an item-item part",
        ),
        (
            {
                "dataset": "synthetic-ecommerce",
                "user_history_length": 0,
                "item_item_train_weight": 0.2,
            },
            "item_item_train_weight=0.2 needs an item-item part",
        ),
        ({"item_item_train_weight": -0.5}, "item_item_train_weight=-0.5 must be >= 0"),
    ],
)
def test_validation_names_field_and_value(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as error:
        ExperimentConfig(**changes)
    assert message in str(error.value)


def test_model_config_keeps_only_chosen_tasks_with_overrides() -> None:
    config = ExperimentConfig(
        tasks=("retrieval", "rating"), architecture="mmoe", learning_rate=0.05, seed=7
    )
    model = config.model_config()
    assert [task.name for task in model.tasks] == ["retrieval", "rating"]
    assert (model.architecture, model.learning_rate, model.seed) == ("mmoe", 0.05, 7)
    assert model.task("retrieval").use_full_catalogue  # the default negatives
    assert not model.task("retrieval").use_logq_correction


def test_model_config_reads_the_user_history_and_no_side_features_by_default() -> None:
    model = ExperimentConfig().model_config(columns=("user_id", "movie_id", "user_rating"))
    assert [f.name for f in model.features.query_features] == ["user_id", "user_history"]
    assert model.features.feature("user_history").table_name == "movie_id"
    plain = ExperimentConfig(user_history_length=0, side_features=True).model_config()
    assert "user_history" not in plain.features.names and "timestamp" in plain.features.names


def test_cascade_parent_dropped_detaches_the_child() -> None:
    config = ExperimentConfig(
        dataset="synthetic-ecommerce", tasks=("retrieval", "purchase"), baselines=()
    )
    (purchase,) = [task for task in config.model_config().tasks if task.name == "purchase"]
    assert purchase.conditioned_on is None
    full = ExperimentConfig(dataset="synthetic-ecommerce", baselines=()).model_config()
    assert full.task("purchase").conditioned_on == "click"


def test_fold_splits_kfold_and_canonical() -> None:
    kfold = fold_splits(3)
    assert [(s.method, s.fold_index, s.num_folds) for s in kfold] == [
        ("kfold", 0, 3),
        ("kfold", 1, 3),
        ("kfold", 2, 3),
    ]
    assert [s.canonical_fold for s in fold_splits("u1-u5")] == ["u1", "u2", "u3", "u4", "u5"]
    assert [s.canonical_fold for s in fold_splits("ua,ub")] == ["ua", "ub"]
    for bad in ("1", "u1", "u0-u9", "x,y"):
        with pytest.raises(ValueError):
            fold_splits(bad)


def test_model_config_drops_what_the_data_lacks() -> None:
    config = ExperimentConfig(dataset="taobao-userbehavior", baselines=())
    columns = ["user_id", "item_id", "category", "click", "cart", "purchase"]
    model = config.model_config(columns)
    assert [task.name for task in model.tasks] == [
        "retrieval",
        "engagement",
        "click",
        "cart",
        "purchase",
        "category",
    ]
    names = [feature.name for feature in model.features.features]
    assert names == ["user_id", "item_id", "user_history"]  # no brand, no price


def test_tower_and_temperature_settings_reach_the_model_config() -> None:
    config = ExperimentConfig(
        embedding_dim=16, tower_hidden_dims=(8,), use_l2_norm=False, retrieval_temperature=0.5
    ).model_config()
    assert config.query_tower == config.candidate_tower
    assert (config.query_tower.hidden_dims, config.query_tower.output_dim) == ((8,), 16)
    assert config.query_tower.use_l2_norm is False
    assert config.task("retrieval").temperature == 0.5


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"retrieval_temperature": 0.0}, "retrieval_temperature=0.0 must be > 0"),
        ({"tower_hidden_dims": [8, 0]}, r"tower_hidden_dims=\[8, 0\] must all be >= 1"),
    ],
)
def test_impossible_tower_settings_are_refused(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ExperimentConfig.from_dict(overrides)


def test_interest_is_an_opt_in_task_dropped_without_categories() -> None:
    shop = ExperimentConfig(dataset="synthetic-ecommerce", baselines=())
    assert "interest" not in shop.task_names and not shop.use_interest
    assert "interest" not in [task.name for task in shop.model_config().tasks]
    chosen = shop.replace(tasks=("retrieval", "interest"))
    interest = chosen.model_config().task("interest")
    assert (interest.label_key, interest.num_classes) == ("user_category_profile", 0)
    with_categories = chosen.model_config(["user_id", "item_id", "category", "click"])
    assert [task.name for task in with_categories.tasks] == ["retrieval", "interest"]
    without = chosen.model_config(["user_id", "item_id", "click"])  # RetailRocket's columns
    assert [task.name for task in without.tasks] == ["retrieval"]
    movielens = ExperimentConfig(tasks=("retrieval", "rating", "interest")).model_config()
    assert movielens.task("interest").label_key == "user_genre_profile"
    with pytest.raises(ConfigError, match=r"unknown task\(s\) \['interests'\]"):
        ExperimentConfig(tasks=("retrieval", "interests"))


def test_task_weights_override_the_preset_and_the_movielens_defaults() -> None:

    def weights(config: ExperimentConfig) -> dict[str, float]:
        return {task.name: task.weight for task in config.model_config().tasks}

    assert weights(ExperimentConfig()) == {
        "retrieval": 1.0,
        "engagement": 1.0,
        "rating": 0.5,
        "genres": 1.0,
    }
    changed = ExperimentConfig.from_dict({"task_weights": {"rating": 1.0, "genres": 0.0}})
    assert weights(changed) == {"retrieval": 1.0, "engagement": 1.0, "rating": 1.0, "genres": 0.0}
    from tfrs_mtl.models import ecommerce_config

    shop = weights(ExperimentConfig(dataset="synthetic-ecommerce", baselines=()))
    assert shop == {
        task.name: task.weight
        for task in ecommerce_config(use_engagement=True).tasks
        if task.name in shop
    }
    with pytest.raises(ConfigError, match=r"task_weights: unknown task\(s\) \['click'\]"):
        ExperimentConfig(task_weights={"click": 1.0})
    with pytest.raises(ConfigError, match=r"task_weights\.rating=-1\.0 must be >= 0"):
        ExperimentConfig(task_weights={"rating": -1.0})


def test_item_item_weight_reaches_the_model_config() -> None:
    # The default: EASE's part added to the served score only, on MovieLens-100K.
    default = ExperimentConfig().model_config()
    assert (default.item_item_weight, default.item_item_train_weight) == (
        DEFAULT_ITEM_ITEM_WEIGHT,
        0.0,
    )
    assert DEFAULT_ITEM_ITEM_WEIGHT > 0
    trained_around = ExperimentConfig(item_item_weight=0.3, item_item_train_weight=None)
    config = trained_around.model_config()
    assert (config.item_item_weight, config.item_item_train_weight) == (0.3, None)
    off = ExperimentConfig(item_item_weight=0.0).model_config()
    assert (off.item_item_weight, off.item_item_train_weight) == (0.0, None)
    # None resolves to off where the part is unsupported, without an error.
    for overrides in (
        {"dataset": "synthetic-ecommerce", "baselines": (), "user_history_length": 0},
        {"identity_embeddings": False},
        {"user_history_length": 0},
    ):
        experiment = ExperimentConfig(**overrides)
        assert experiment.resolved_item_item_weight == 0.0
        assert experiment.model_config().item_item_weight == 0.0


def test_the_item_item_part_switches_on_by_catalogue_size_not_by_name() -> None:
    # Any data with a history: on up to MAX_ITEM_ITEM_ITEMS items, off beyond.
    for dataset in ("movielens-100k", "movielens-1m", "synthetic-ecommerce", "retailrocket"):
        experiment = ExperimentConfig(dataset=dataset)
        small = experiment.model_config(num_items=MAX_ITEM_ITEM_ITEMS)
        large = experiment.model_config(num_items=MAX_ITEM_ITEM_ITEMS + 1)
        assert small.item_item_weight == DEFAULT_ITEM_ITEM_WEIGHT
        assert (large.item_item_weight, large.item_item_train_weight) == (0.0, None)
    # An explicit weight is the user's choice at any size.
    chosen = ExperimentConfig(item_item_weight=0.2)
    assert chosen.model_config(num_items=10 * MAX_ITEM_ITEM_ITEMS).item_item_weight == 0.2
