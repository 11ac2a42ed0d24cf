"""Export a `Recommender` as one SavedModel folder with a manifest, and load it back.

The folder holds `saved_model.pb`, `variables/` (encoders, ranker, catalogue tensors, the
ScaNN searcher state) and `manifest.json`. Its signatures:

- `recommend(<query features>, exclusions, k, num_candidates, blend_weights)` -> `item_ids`,
  `retrieval_scores`, `final_scores`, `scores/<task>`, each `[batch_size, k]`;
- `retrieve(<query features>, k)` -> `item_ids`, `retrieval_scores`;
- `score(<query features>, candidate_ids)` -> `scores/<task>`.

`k`, `num_candidates`, exclusions and blend weights are inputs, not export-time constants, so
one export serves every request shape: `exclusions` is `[batch_size, num_excluded]` candidate
ids padded with "" (string ids) or -1 (integer ids), `[batch_size, 0]` for none;
`blend_weights` is `[1 + num_tasks]` in the manifest's `blend_order`. `load` fills these from
the same keyword arguments as `Recommender.recommend`; the manifest's `default_blend` (the
model's fitted blend, else the retrieval score alone) is what `recommend` uses when given no
blend.

The write is atomic: everything goes to a hidden sibling folder, is fsynced, and is renamed
into place last; a failure removes the sibling and leaves no half-written export.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tensorflow as tf

from tfrs_mtl._atomic_files import staged_folder
from tfrs_mtl.serving.blend import RETRIEVAL_SCORE
from tfrs_mtl.serving.candidate_index import (
    SCANN_INSTALL_HINT,
    index_fingerprint,
    load_scann_ops,
)
from tfrs_mtl.serving.manifest import ExportError, package_versions, verify_export, write_manifest
from tfrs_mtl.serving.recommender_base import RecommenderBase

if TYPE_CHECKING:
    from tfrs_mtl.serving.recommender import Recommender

# ScaNN's TensorFlow ops live in the "Scann" namespace, which SavedModel refuses by default.
SAVE_OPTIONS = tf.saved_model.SaveOptions(namespace_whitelist=["Scann"])


@contextlib.contextmanager
def _quiet_tensorflow_logs() -> Iterator[None]:
    """Hides TF-Keras' per-layer "skipping full serialization" warnings while saving.

    They describe Keras' own layer configs, which the export never uses (the manifest holds the
    model's config), and would bury the user's output under dozens of lines.
    """
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def save(recommender: Recommender, path: str | Path, *, overwrite: bool = False) -> Path:
    """Writes `recommender` as a SavedModel folder with `manifest.json`, atomically.

    Args:
        recommender: the in-process recommender to export.
        path: the export folder to create.
        overwrite: replace an existing folder (swapped in only once the new one is complete).

    Returns:
        The export folder.

    Raises:
        FileExistsError: `path` exists and `overwrite` is False.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    graph = recommender.graph
    with staged_folder(path) as staging:
        with _quiet_tensorflow_logs():
            tf.saved_model.save(
                graph,
                str(staging),
                signatures=graph.signatures(),
                options=SAVE_OPTIONS,
            )
        write_manifest(staging, _manifest_content(recommender))
        _fsync_tree(staging)
    _fsync_directory(path.parent)
    return path


def load(path: str | Path) -> LoadedRecommender:
    """Loads an export folder after verifying its manifest; ScaNN ops are registered first.

    Raises:
        ExportError: the folder is missing, partial or corrupt (see `verify_export`), or it
            holds a ScaNN index and the `scann` package cannot be imported.
    """
    manifest = verify_export(path)
    if manifest["built_index_config"].get("kind") == "scann":
        try:
            load_scann_ops()
        except ImportError as error:
            raise ExportError(
                f"{path} holds a ScaNN index, but ScaNN's TensorFlow ops cannot be loaded "
                f"({error}); {SCANN_INSTALL_HINT}, then load again"
            ) from None
    try:
        restored = tf.saved_model.load(str(path))
    except (tf.errors.NotFoundError, ValueError) as error:
        raise ExportError(f"{path}: TensorFlow cannot load the SavedModel: {error}") from None
    return LoadedRecommender(restored, manifest, Path(path))


class LoadedRecommender(RecommenderBase):
    """An exported recommender: the same `recommend`, `retrieve`, `score` as `Recommender`.

    Attributes:
        manifest: the verified manifest.
        path: the export folder.
        signatures: the SavedModel signatures (for TF Serving style calls).
    """

    def __init__(self, restored: Any, manifest: dict[str, Any], path: Path) -> None:
        self._restored = restored
        self.manifest = manifest
        self.path = path
        self.signatures = restored.signatures
        self.ranking_task_names = tuple(manifest["ranking_task_names"])
        fitted = manifest.get("fitted_blend")
        self.fitted_blend = {str(k): float(v) for k, v in fitted.items()} if fitted else None
        self.num_items = int(manifest["catalogue"]["num_items"])
        self.candidate_id_dtype = tf.as_dtype(manifest["catalogue"]["id_dtype"])
        self.query_signature = {
            name: tf.TensorSpec(spec["shape"], tf.as_dtype(spec["dtype"]), name=name)
            for name, spec in manifest["query_features"].items()
        }

    def _serving_function(self, name: str) -> Any:
        return getattr(self._restored, name)


def _manifest_content(recommender: Recommender) -> dict[str, Any]:
    model = recommender.model
    ids = recommender.catalogue_ids
    return {
        "versions": package_versions(),
        "model_config": model.config.to_dict(),
        "index_config": recommender.index_config.to_dict(),
        "built_index_config": recommender.index.config.to_dict(),
        "fingerprints": {
            "vocabularies": model.vocabularies.fingerprint(),
            "index": index_fingerprint(recommender.candidate_embeddings, ids),
        },
        "catalogue": {
            "num_items": recommender.num_items,
            "id_feature": model.candidate_id_feature,
            "id_dtype": recommender.candidate_id_dtype.name,
            "embedding_dim": int(recommender.candidate_embeddings.shape[1]),
        },
        "query_id_feature": model.query_id_feature,
        "query_features": {
            name: {"dtype": spec.dtype.name, "shape": spec.shape.as_list()}
            for name, spec in recommender.query_signature.items()
        },
        "ranking_task_names": list(recommender.ranking_task_names),
        "blend_order": [RETRIEVAL_SCORE, *recommender.ranking_task_names],
        "default_blend": recommender.default_blend,
        "fitted_blend": recommender.fitted_blend,
        "probability_task_names": list(recommender.model.probability_task_names),
        "signatures": ["recommend", "retrieve", "score"],
    }


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            with Path(root, name).open("rb") as handle:
                os.fsync(handle.fileno())
        _fsync_directory(Path(root))


def _fsync_directory(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
