"""`import tfrs_mtl as tm`: the dozen names a user needs first, imported on first use."""

from __future__ import annotations

import subprocess
import sys

import tfrs_mtl

FRONT_DOOR = [
    "ExperimentConfig",
    "IndexConfig",
    "MultiTaskConfig",
    "MultiTaskModel",
    "Recommender",
    "build_dataset",
    "ecommerce_config",
    "load",
    "load_dataset",
    "movielens_config",
    "run_experiment",
    "split",
    "to_feature_arrays",
]


def test_the_front_door_is_this_list() -> None:
    assert sorted(name for name in tfrs_mtl.__all__ if name != "__version__") == FRONT_DOOR
    assert set(FRONT_DOOR) <= set(dir(tfrs_mtl))


def test_each_name_is_the_subpackage_s_own() -> None:
    from tfrs_mtl import data, experiments, models, serving

    for name in FRONT_DOOR:
        owner = next(
            module for module in (data, models, serving, experiments) if name in module.__all__
        )
        assert getattr(tfrs_mtl, name) is getattr(owner, name), name


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        _ = tfrs_mtl.no_such_name  # type: ignore[attr-defined]
    except AttributeError as error:
        assert "no_such_name" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_loads_no_tensorflow() -> None:
    code = "import sys, tfrs_mtl; print('tensorflow' in sys.modules)"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "False"


#: `tfrs_mtl.data`'s public names: readers, splits, their types and errors; the MovieLens
#: schema, TFDS ordering, canonical folds and synthetic ground truth stay in their modules.
DATA_NAMES = [
    "BEHAVIORS",
    "DATASET_NAMES",
    "DataError",
    "DataNotFoundError",
    "EventLog",
    "GENRE_NAMES",
    "MovieLensData",
    "ReadReport",
    "SPLIT_METHODS",
    "Split",
    "SplitConfig",
    "SyntheticEcommerce",
    "aggregate_interactions",
    "as_tf_dataset",
    "describe_dataset",
    "describe_event_log",
    "generate_synthetic_ecommerce",
    "kfold",
    "load_dataset",
    "load_movielens",
    "load_retailrocket",
    "load_taobao",
    "read_event_table",
    "split",
    "split_from_config",
    "to_feature_arrays",
    "write_synthetic",
]


def test_the_data_package_exports_its_readers_and_splits_only() -> None:
    from tfrs_mtl import data

    assert sorted(data.__all__) == sorted(DATA_NAMES)
    for name in data.__all__:
        assert getattr(data, name) is not None, name
