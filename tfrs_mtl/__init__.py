"""tfrs_mtl: multi-task learning for recommendation on TensorFlow Recommenders.

The front door holds the names a user needs first; the subpackages (`tfrs_mtl.data`,
`features`, `layers`, `tasks`, `models`, `serving`, `evaluation`, `experiments`) hold the rest.

Example:
    >>> import tfrs_mtl as tm
    >>> result = tm.run_experiment(tm.ExperimentConfig(epochs=1), "runs/ml100k")
    >>> recommender = tm.load("runs/ml100k/export")  # in any process
    >>> parts = tm.split(tm.load_dataset("movielens-100k").ratings, "tutorial")
    >>> train = tm.to_feature_arrays(parts.train)
    >>> model = tm.MultiTaskModel.from_data(tm.movielens_config(), train)

Importing the package only selects Keras 2 for `tf.keras` (TFRS 0.7.7 needs it) and keeps
TensorFlow's C++ logs to errors unless `TFRS_MTL_VERBOSE=1` (or `TF_CPP_MIN_LOG_LEVEL` is set);
TensorFlow itself is imported when a name below is first used, so `tfrs-mtl --help` stays fast.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

# Must happen before anything touches `tf.keras`; setdefault respects an explicit choice.
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
if os.environ.get("TFRS_MTL_VERBOSE", "") in ("", "0"):
    # Before TensorFlow loads: its C++ notices (CUDA probing, graph rewrites) stay hidden.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfrs_mtl._keras import check_keras_backend

check_keras_backend()

__version__ = "0.1.0"

#: The front door: name -> the module that defines it (imported on first use).
_FRONT_DOOR: dict[str, str] = {
    "load_dataset": "tfrs_mtl.data",
    "split": "tfrs_mtl.data",
    "to_feature_arrays": "tfrs_mtl.data",
    "movielens_config": "tfrs_mtl.models",
    "ecommerce_config": "tfrs_mtl.models",
    "MultiTaskConfig": "tfrs_mtl.models",
    "MultiTaskModel": "tfrs_mtl.models",
    "build_dataset": "tfrs_mtl.models",
    "IndexConfig": "tfrs_mtl.serving",
    "Recommender": "tfrs_mtl.serving",
    "load": "tfrs_mtl.serving",
    "ExperimentConfig": "tfrs_mtl.experiments",
    "run_experiment": "tfrs_mtl.experiments",
}

__all__ = ["__version__", *_FRONT_DOOR]


def __getattr__(name: str) -> Any:
    module = _FRONT_DOOR.get(name)
    if module is None:
        raise AttributeError(f"module 'tfrs_mtl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_FRONT_DOOR})
