"""Saving and loading a `MultiTaskModel`: its config, fitted state and weights, as files.

Layout of a saved model folder:

    config.json            MultiTaskConfig
    vocabularies.json      FeatureVocabularies (fingerprinted by serving manifests)
    task_statistics.json   TaskStatistics
    catalogue.npz          Catalogue (when the model has one)
    default_blend.json     the fitted blend of the served score (when the model has one)
    weights/model.*        TensorFlow checkpoint of every variable

Loading rebuilds the model from the three JSON files (and the catalogue), creates every
variable by calling it once on a placeholder batch, then restores the checkpoint.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import tensorflow as tf

from tfrs_mtl.features import FeatureVocabularies
from tfrs_mtl.models.catalogue import Catalogue
from tfrs_mtl.models.multitask_config import MultiTaskConfig
from tfrs_mtl.models.task_statistics import TaskStatistics

CONFIG_FILE = "config.json"
VOCABULARIES_FILE = "vocabularies.json"
STATISTICS_FILE = "task_statistics.json"
CATALOGUE_FILE = "catalogue.npz"
BLEND_FILE = "default_blend.json"
WEIGHTS_PREFIX = "weights/model"

_PLACEHOLDERS = {tf.string: "", tf.int64: 0, tf.float32: 0.0, tf.bool: False}


def placeholder_batch(model: Any) -> dict[str, tf.Tensor]:
    """One example of every raw feature (empty string, 0, -1 padding), to create variables."""
    batch = {}
    for side in ("query", "candidate"):
        for name, spec in model.feature_signature(side).items():
            if spec.shape.rank == 2:
                batch[name] = tf.fill([1, 1], tf.constant(-1, spec.dtype))
            else:
                batch[name] = tf.constant([_PLACEHOLDERS[spec.dtype]], spec.dtype)
    return batch


def save(model: Any, path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    model.config.save(path / CONFIG_FILE)
    model.vocabularies.save(path / VOCABULARIES_FILE)
    model.task_statistics.save(path / STATISTICS_FILE)
    if model.catalogue is not None:
        model.catalogue.save(path / CATALOGUE_FILE)
    if model.default_blend:
        (path / BLEND_FILE).write_text(json.dumps(model.default_blend, indent=2), "utf-8")
    model.save_weights(str(path / WEIGHTS_PREFIX), save_format="tf")


def load(cls: Any, path: Path) -> Any:
    if not (path / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{path}: no {CONFIG_FILE}; not a folder written by save_model")
    config = MultiTaskConfig.load(path / CONFIG_FILE)
    vocabularies = FeatureVocabularies.load(path / VOCABULARIES_FILE)
    statistics = TaskStatistics.load(path / STATISTICS_FILE)
    catalogue_path = path / CATALOGUE_FILE
    catalogue = Catalogue.load(catalogue_path) if catalogue_path.is_file() else None
    model = cls(config, vocabularies, statistics, catalogue)  # creates every variable
    if (path / BLEND_FILE).is_file():
        model.default_blend = read_blend(path / BLEND_FILE, model.ranking_task_names)
    # Optimizer slots and metric states may be absent or unused: restore what matches.
    model.load_weights(str(path / WEIGHTS_PREFIX)).expect_partial()
    return model


def read_blend(path: Path, ranking_task_names: tuple[str, ...]) -> dict[str, float]:
    """A saved blend `{score: weight}`, checked against the model's ranking tasks.

    Raises:
        ValueError: naming the file and what is wrong in it.
    """
    try:
        blend = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path}: not a readable blend file ({error})") from None
    names = ("retrieval", *ranking_task_names)
    if not isinstance(blend, dict) or not all(
        name in names
        and isinstance(weight, int | float)
        and not isinstance(weight, bool)
        and math.isfinite(weight)
        for name, weight in blend.items()
    ):
        raise ValueError(
            f"{path}: expected {{score: finite number}} with scores among {list(names)}"
        )
    return {str(name): float(weight) for name, weight in blend.items()}
