"""Fingerprints recomputed from what an export folder holds, not from its manifest.

The manifest's per-file sha256 catches damaged files, but not files swapped in from another
export with the checksums fixed up. These fingerprints are derived from the content the graph
serves, so such a swap shows as a mismatch:

* **index**: `index_fingerprint` of the candidate embeddings the index searches (the
  `[num_items, embedding_dim]` variable under `index/`: ScaNN's `index/state/dataset`,
  brute force's `index/layer/candidates`) and the catalogue's ids (`catalogue/<id feature>`
  variable), in row order. Compared with the manifest's
  `fingerprints.index`, computed from the in-process recommender at export.
* **vocabulary_tables**: sha256 over the key tensors of the graph's lookup tables (the
  string constants of `saved_model.pb`'s top-level graph: every vocabulary's keys and the
  catalogue's id keys). Recorded at export in `content_fingerprints`, recomputed at load.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from tfrs_mtl.serving.candidate_index import index_fingerprint


def _variable_name(name: str) -> str:
    return f"{name}/.ATTRIBUTES/VARIABLE_VALUE"


def _graph_constants(folder: Path) -> list[np.ndarray]:
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((folder / "saved_model.pb").read_bytes())
    return [
        tf.make_ndarray(node.attr["value"].tensor)
        for graph in saved_model.meta_graphs
        for node in graph.graph_def.node
        if node.op == "Const"
    ]


def vocabulary_tables_fingerprint(folder: Path) -> str:
    """sha256 over the graph's string key tensors (order-independent, name-independent)."""
    digests = sorted(
        hashlib.sha256(b"\0".join(bytes(value) for value in array.ravel())).hexdigest()
        for array in _graph_constants(folder)
        if array.dtype == object and array.ndim == 1
    )
    return hashlib.sha256("\n".join(digests).encode()).hexdigest()


def index_content_fingerprints(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """The index fingerprint of every candidate-embedding tensor found in the export (usually
    one), each with the catalogue ids; empty when the layout holds none."""
    import tensorflow as tf

    catalogue = manifest.get("catalogue", {})
    num_items, dim = catalogue.get("num_items"), catalogue.get("embedding_dim")
    id_feature = catalogue.get("id_feature")
    try:
        reader = tf.train.load_checkpoint(str(folder / "variables" / "variables"))
        ids = reader.get_tensor(_variable_name(f"catalogue/{id_feature}"))
    except (tf.errors.OpError, ValueError):
        return []
    shape = [num_items, dim]
    embeddings = [
        reader.get_tensor(name)
        for name, variable_shape in sorted(reader.get_variable_to_shape_map().items())
        if name.startswith("index/") and list(variable_shape) == shape
    ]
    embeddings += [
        array
        for array in _graph_constants(folder)
        if array.dtype == np.float32 and list(array.shape) == shape
    ]
    return [index_fingerprint(array, ids) for array in embeddings if list(array.shape) == shape]


def content_fingerprints(folder: Path, manifest: dict[str, Any]) -> dict[str, str | None]:
    """What `write_manifest` records: the vocabulary tables' fingerprint, and the index
    fingerprint when the export's content reproduces the manifest's (None otherwise)."""
    expected = manifest.get("fingerprints", {}).get("index")
    index = expected if expected in index_content_fingerprints(folder, manifest) else None
    return {"index": index, "vocabulary_tables": vocabulary_tables_fingerprint(folder)}


def content_problems(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """Mismatches between the export's content and its manifest, one line each."""
    recorded = manifest.get("content_fingerprints")
    if not isinstance(recorded, dict):
        return []  # an export written before content fingerprints: checksums only
    problems = []
    if recorded.get("index") is not None:
        found = index_content_fingerprints(folder, manifest)
        expected = manifest["fingerprints"]["index"]
        if expected not in found:
            problems.append(
                "index: the candidate embeddings and ids in the export (fingerprint "
                f"{', '.join(f[:12] for f in found) or 'none found'}) are not those of the "
                f"model it was exported with ({expected[:12]}): the index comes from another "
                "training run"
            )
    expected_tables = recorded.get("vocabulary_tables")
    if expected_tables is not None:
        found_tables = vocabulary_tables_fingerprint(folder)
        if found_tables != expected_tables:
            problems.append(
                f"vocabularies: the lookup tables in saved_model.pb (fingerprint "
                f"{found_tables[:12]}) do not match the model's vocabularies "
                f"({expected_tables[:12]}, vocabularies fingerprint "
                f"{manifest['fingerprints'].get('vocabularies', '?')[:12]})"
            )
    return problems
