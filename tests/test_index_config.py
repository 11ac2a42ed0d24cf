"""IndexConfig: validation messages, the small-catalogue rule, round trip."""

from __future__ import annotations

import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.serving.index_config import IndexConfig


def test_round_trip() -> None:
    config = IndexConfig(
        min_items_to_partition=1,
        num_leaves=50,
        num_leaves_to_search=5,
        num_reordering_candidates=None,
    )
    assert IndexConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"num_leaves": 100, "num_leaves_to_search": 200},
            "num_leaves_to_search=200 exceeds num_leaves=100",
        ),
        ({"num_reordering_candidates": 0}, "num_reordering_candidates=0 must be at least 1"),
        ({"dimensions_per_block": 0}, "dimensions_per_block=0"),
    ],
)
def test_validation_names_field_and_value(changes: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        IndexConfig(**changes)


def test_from_dict_rejects_unknown_kind() -> None:
    with pytest.raises(ConfigError, match="kind: expected one of"):
        IndexConfig.from_dict({"kind": "faiss"})


def test_adapted_to_small_catalogue() -> None:
    # 1000 items // 50 per leaf = 20 leaves; 10 of 100 leaves (10%) -> ceil(0.1 * 20) = 2.
    adapted = IndexConfig(
        num_leaves=100, num_leaves_to_search=10, min_items_to_partition=1
    ).adapted_to(1000)
    assert (adapted.num_leaves, adapted.num_leaves_to_search) == (20, 2)
    assert adapted.training_sample_size == 1000
    assert adapted.num_reordering_candidates == 100


def test_adapted_to_tiny_catalogue_skips_the_tree() -> None:
    adapted = IndexConfig(num_reordering_candidates=500).adapted_to(60)
    assert (adapted.num_leaves, adapted.num_leaves_to_search) == (1, 1)
    assert not adapted.uses_partitioning
    assert adapted.num_reordering_candidates == 60


@pytest.mark.parametrize(
    ("num_items", "partitioned"), [(1_682, False), (19_999, False), (20_000, True)]
)
def test_catalogues_below_min_items_to_partition_skip_the_tree(
    num_items: int, partitioned: bool
) -> None:
    adapted = IndexConfig(num_leaves=100, num_leaves_to_search=10).adapted_to(num_items)
    assert adapted.uses_partitioning is partitioned
    assert adapted.num_leaves == (100 if partitioned else 1)
    assert adapted.num_leaves_to_search == (10 if partitioned else 1)


def test_min_items_to_partition_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="min_items_to_partition=0 must be at least 1"):
        IndexConfig(min_items_to_partition=0)


def test_adapted_to_large_catalogue_keeps_the_config() -> None:
    config = IndexConfig(num_leaves=100, num_leaves_to_search=10)
    assert config.adapted_to(1_000_000).replace(training_sample_size=100_000) == config


def test_brute_force_is_not_adapted() -> None:
    config = IndexConfig(kind="brute_force")
    assert config.adapted_to(5) == config


def test_adapted_to_rejects_empty_catalogue() -> None:
    with pytest.raises(ValueError, match="num_items=0"):
        IndexConfig().adapted_to(0)
