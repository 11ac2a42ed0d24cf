"""`MultiTaskConfig`: validation of the parts together (leakage guard included), presets."""

from __future__ import annotations

import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.features import movielens_feature_spec
from tfrs_mtl.layers import TowerConfig
from tfrs_mtl.models import MultiTaskConfig, ecommerce_config, movielens_config
from tfrs_mtl.tasks import TaskConfig

GENRES = TaskConfig(
    name="genres",
    kind="attribute",
    label_key="movie_genres",
    target="multi_label",
    num_classes=21,
    source_side="candidate",
)
RATING = TaskConfig(name="rating", kind="rating", label_key="user_rating")


def test_leakage_guard_refuses_an_attribute_that_its_tower_reads() -> None:
    with pytest.raises(ConfigError) as error:
        MultiTaskConfig(features=movielens_feature_spec(), tasks=(RATING, GENRES))
    assert str(error.value) == (
        "task 'genres' predicts 'movie_genres' from the candidate tower, which also takes "
        "'movie_genres' as an input; remove it from the candidate features "
        "(movielens_feature_spec(exclude=('movie_genres',)), or FeatureSpec.without)"
    )
    MultiTaskConfig(
        features=movielens_feature_spec(exclude=("movie_genres",)), tasks=(RATING, GENRES)
    )


def test_interest_profile_must_not_be_a_query_input() -> None:
    spec = movielens_feature_spec()
    profile = spec.features[0].replace(name="user_genre_profile", kind="numeric")
    interest = TaskConfig(
        name="interest",
        kind="interest",
        label_key="user_genre_profile",
        num_classes=21,
        source_side="query",
    )
    with pytest.raises(ConfigError, match="task 'interest' predicts 'user_genre_profile'"):
        MultiTaskConfig(
            features=spec.replace(features=(*spec.without(("movie_genres",)).features, profile)),
            tasks=(RATING, interest),
        )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tasks": (RATING, RATING)}, "duplicate task names ['rating']"),
        ({"candidate_id_feature": "user_id"}, "candidate_id_feature='user_id' is not a candidate"),
        (
            {"candidate_tower": TowerConfig(output_dim=8)},
            "candidate_tower's output width 8 (output_dim=8, identity_feature=None) differs",
        ),
        (
            {"query_tower": TowerConfig(use_l2_norm=True, identity_feature="movie_id")},
            "query_tower.identity_feature='movie_id' is not a query feature",
        ),
        (
            {"candidate_tower": TowerConfig(use_l2_norm=True, identity_feature="movie_id")},
            "candidate_tower's output width 64 (output_dim=32, identity_feature='movie_id') "
            "differs from query_tower's 32",
        ),
        (
            {
                "tasks": (
                    TaskConfig(
                        name="buy", kind="binary", label_key="purchase", conditioned_on="click"
                    ),
                )
            },
            "tasks.buy.conditioned_on='click': no binary task",
        ),
        (
            {"tasks": (TaskConfig(name="r", kind="rating", label_key="user_id"),)},
            "tasks.r.label_key='user_id' is also an input feature",
        ),
        (
            {"candidate_tower": TowerConfig(output_dim=32, use_bias_dimension=True)},
            "candidate_tower.use_bias_dimension=True differs",
        ),
        (
            {
                "tasks": (
                    TaskConfig(
                        name="retrieval",
                        kind="retrieval",
                        use_full_catalogue=True,
                        positives_feature="movie_genres",
                    ),
                )
            },
            "positives_feature='movie_genres' must be a query-side multi_hot feature",
        ),
    ],
)
def test_invalid_configs_name_the_field(changes: dict, message: str) -> None:
    base = movielens_config()
    with pytest.raises(ConfigError) as error:
        base.replace(**changes)
    assert message in str(error.value)


@pytest.mark.parametrize("config", [movielens_config(architecture="ple"), ecommerce_config()])
def test_presets_round_trip_through_json(config: MultiTaskConfig, tmp_path) -> None:
    config.save(tmp_path / "config.json")
    assert MultiTaskConfig.load(tmp_path / "config.json") == config


def test_presets_predict_only_what_their_towers_do_not_read() -> None:
    movielens = movielens_config()
    assert "movie_genres" not in movielens.features.names
    assert [task.name for task in movielens.ranking_tasks] == ["rating"]
    ecommerce = ecommerce_config()
    tower_read = [f.name for f in ecommerce.features.tower_features("candidate")]
    assert {"category", "price"}.isdisjoint(tower_read)
    assert "category" not in ecommerce.features.names
    assert ecommerce.features.feature("price").ranking_only  # the ranking stack reads it
    assert ecommerce.task("purchase").conditioned_on == "click"
    assert ecommerce.architecture == "mmoe"


def test_ecommerce_preset_for_data_without_attributes() -> None:
    config = ecommerce_config(use_brand=False, use_category=False, use_price=False)
    assert config.features.names == ("user_id", "item_id")
    assert [task.name for task in config.tasks] == ["retrieval", "click", "cart", "purchase"]


def test_positives_feature_needs_a_full_catalogue_retrieval() -> None:
    with pytest.raises(ConfigError, match="positives_feature='user_history' needs use_full_cat"):
        TaskConfig(name="retrieval", kind="retrieval", positives_feature="user_history")
    with pytest.raises(ConfigError, match="only applies to kind='retrieval'"):
        TaskConfig(name="r", kind="rating", label_key="x", positives_feature="user_history")
