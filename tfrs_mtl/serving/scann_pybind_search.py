"""The eager fast path of `ScannIndex`: ScaNN's own pybind searcher over the same index.

A call through ScaNN's TensorFlow op costs about 0.1-0.25 ms before any search work (op
dispatch, tensor conversion), several times a one-query search of a tuned 1M index. ScaNN's
pybind searcher (`scann.scann_ops_pybind`) takes numpy arrays straight to C++.

The pybind searcher is not built a second time: ScaNN's builders do not give identical leaves
(in scann 1.4.2 a pybind build and a TF-op build of the same config and data differ in the
serialized partitioner and in `datapoint_to_token`). It is loaded from the very tensors the
TF-op searcher serializes to (`ScannState`, what a SavedModel stores), written out in ScaNN's
own asset layout (`ScannSearcher.serialize`'s files: `scann_config.pb`, `dataset.npy`, ...)
and read back by `scann_ops_pybind.load_searcher`. Both searchers therefore hold the same
config, partitioner, tokens, codebook and codes, and return the same ids and scores (tested:
`tests/test_scann_fast_path.py`). A SavedModel cannot hold a pybind object, so exported
models keep the TF ops.
"""

from __future__ import annotations

import importlib
import math
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

# ScannState's tensors as ScaNN's pybind `serialize` names them (absent ones are not written).
_PROTO_ASSETS = ("scann_config", "serialized_partitioner", "ah_codebook")
_ARRAY_ASSETS = (
    "datapoint_to_token",
    "hashed_dataset",
    "int8_dataset",
    "int8_multipliers",
    "dp_norms",
    "dataset",
)


def load_scann_pybind() -> ModuleType | None:
    """`scann.scann_ops.py.scann_ops_pybind`, or None where it cannot be imported."""
    try:
        return importlib.import_module("scann.scann_ops.py.scann_ops_pybind")
    except ImportError:
        return None


def pybind_searcher_from_state(state: Any, pybind: ModuleType) -> Any:
    """A `scann_ops_pybind.ScannSearcher` over the index `state` (a `ScannState`) holds.

    The state's tensors are written to a temporary folder in ScaNN's asset layout, loaded,
    and the folder deleted: afterwards the searcher holds the only extra copy.
    """
    backcompat = importlib.import_module("scann.scann_ops.py.scann_ops_pybind_backcompat")
    with tempfile.TemporaryDirectory(prefix="tfrs_mtl_scann_") as temporary:
        folder = Path(temporary)
        for name in _PROTO_ASSETS:
            # A serialized proto: a [1] string tensor, or an empty scalar when unused.
            value = np.asarray(getattr(state, name).numpy(), dtype=object).reshape(-1)
            if value.size and value[0]:
                (folder / f"{name}.pb").write_bytes(value[0])
        for name in _ARRAY_ASSETS:
            value = getattr(state, name).numpy()
            # Unused assets are serialized as empty scalars.
            if value.ndim and value.size:
                np.save(folder / f"{name}.npy", value)
            del value
        backcompat.populate_and_save_assets_proto(str(folder))
        return pybind.load_searcher(str(folder))


def search_pybind(
    searcher: Any,
    queries: np.ndarray,
    num_neighbors: int,
    pre_reorder_num_neighbors: int | None,
    leaves_to_search: int | None,
) -> tuple[np.ndarray, np.ndarray]:
    """`(distances [batch, num_neighbors] float32, rows int32)`, empty slots `-inf` / `-1`.

    Always `search_batched`, also for one query: ScaNN's single-query `search` reorders with
    another kernel, whose distances differ from the TF op's in the last bits. The C++ method
    is called directly (one thread: `parallel=False`, batch size 0 ignored): the Python
    wrapper only maps None to -1 and rows to docids, which these searchers have none of.
    """
    indices, distances = searcher.searcher.search_batched(
        queries,
        num_neighbors,
        -1 if pre_reorder_num_neighbors is None else pre_reorder_num_neighbors,
        -1 if leaves_to_search is None else leaves_to_search,
        False,
        0,
    )
    # Rows are below 2**31: ScaNN's uint32 ids are reinterpreted, not copied.
    rows = indices.view(np.int32) if indices.itemsize == 4 else indices.astype(np.int32)
    # Empty slots are NaN, and a NaN anywhere makes the sum NaN: one reduction instead of
    # isnan's array and `any`. An overflow to inf - inf only sends a call to the exact
    # masking below, which changes nothing where nothing is NaN.
    if distances.shape[1] == num_neighbors and not math.isnan(distances.sum()):
        return distances, rows
    valid = ~np.isnan(distances)
    distances = np.where(valid, distances, -np.inf).astype(np.float32)
    rows = np.where(valid, rows, -1).astype(np.int32)
    missing = max(num_neighbors - distances.shape[1], 0)
    distances = np.pad(distances, [(0, 0), (0, missing)], constant_values=-np.inf)
    rows = np.pad(rows, [(0, 0), (0, missing)], constant_values=-1)
    return distances[:, :num_neighbors], rows[:, :num_neighbors]
