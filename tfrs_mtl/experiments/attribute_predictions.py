"""What a trained model says about items' attributes.

* `complete_attributes`: fills the attributes an item table lacks (a new or badly tagged
  product's category, brand, price; a movie's genres) from the labelled items closest to
  each item in the model's item space: the completion `--attribute-holdout` scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd
import tensorflow as tf

from tfrs_mtl.evaluation.attribute_completion import (
    EMBEDDING_TEMPERATURE,
    NUM_NEIGHBOURS,
    embedding_neighbours,
    propagated_labels,
)
from tfrs_mtl.experiments.attribute_evaluation import item_attribute_tasks, item_head_outputs
from tfrs_mtl.models import MultiTaskModel
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.serving.catalogue_encoding import padding_id_for, prepare_catalogue

#: How a column is completed: a weighted mean, the class with the most weight, a set.
AttributeKind = Literal["number", "class", "classes"]
_KINDS = get_args(AttributeKind)
_TARGET_KINDS: dict[str, AttributeKind] = {
    "regression": "number",
    "multi_class": "class",
    "multi_label": "classes",
}
#: The column added beside each completed attribute: True where the value was completed.
COMPLETED_SUFFIX = "_completed"
#: The column beside a class attribute: the completed class's share of the neighbours' weight.
SHARE_SUFFIX = "_share"


def complete_attributes(
    model: MultiTaskModel,
    catalogue: Mapping[str, np.ndarray],
    items: pd.DataFrame,
    *,
    kinds: Mapping[str, AttributeKind] | None = None,
    num_neighbours: int = NUM_NEIGHBOURS,
    temperature: float = EMBEDDING_TEMPERATURE,
) -> pd.DataFrame:
    """Fills the missing attribute values of an item table from the labelled items closest
    to each item in the model's item space (the candidate tower's output, cosine
    similarity, weights `exp((cosine - best) / temperature)`; `embedding_neighbours`).

    Per column: a `number` (a price) is the neighbours' weighted mean; a `class` (a
    category, a brand) the one holding the most weight; `classes` (a list per item: genres)
    those holding more than half the weight, and the best one always. An item with no
    labelled neighbour gets the labelled items' mean, most frequent class or classes. Only the rows
    of `items` are read: its labelled rows are the examples, its other rows are completed.
    An item the catalogue lacks (a new product) is embedded from the table's columns of the
    features the candidate tower reads (the shop's brand; its price is read by the ranking
    stack alone), its id through the out-of-vocabulary row, as `Recommender.add_items`
    does; a missing class reads its feature's out-of-vocabulary row, a missing number the
    catalogue's median. Its neighbours are the labelled items sharing its values of the
    tower's single-valued class features (its brand) where any do, else all of them.

    Example:
        >>> items = pd.DataFrame({"item_id": ids, "category": [..., None, ...]})
        >>> filled = complete_attributes(result.model, result.catalogue, items)
        >>> filled[filled["category_completed"]]  # doctest: +SKIP

    Args:
        model: the trained model.
        catalogue: candidate features of every item, with the id feature
            (`ExperimentResult.catalogue`).
        items: one row per item: the id column (`model.candidate_id_feature`) and the
            attribute columns; a missing value (None, NaN; an empty list in a list column) is
            completed.
        kinds: a column's kind (`number`, `class`, `classes`) where it is not the model's:
            a column named as an attribute task or its labels (`genres`, `movie_genres`)
            takes that task's (regression:
            `number`; multi-class: `class`; multi-label: `classes`); any other column is
            `classes` when a value is a list, `number` when its dtype is float, else `class`.
        num_neighbours: labelled items read per completed item.
        temperature: their weights' temperature (> 0).

    Returns:
        A copy of `items`, every missing value filled (a column with no labelled row stays
        as it is), with `<column>_completed` (bool) after each attribute column and, for a
        class column, `<column>_share`: the completed class's share of the weight (NaN on
        labelled rows).

    Raises:
        ValueError: the id column is missing, an id is repeated, an id is not in the
            catalogue and the table lacks a feature the candidate tower reads (or the tower
            reads the id alone: nothing places a new item), or a kind is unknown.
    """
    id_column = model.candidate_id_feature
    if id_column not in items:
        raise ValueError(f"complete_attributes: items has no {id_column!r} column")
    ids = items[id_column].astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        repeated = pd.Index(ids)[pd.Index(ids).duplicated()].unique()[:5].tolist()
        raise ValueError(f"complete_attributes: ids repeated in items, e.g. {repeated}")
    catalogue_ids = pd.Index(np.asarray(catalogue[id_column]).astype(str))
    rows = catalogue_ids.get_indexer(pd.Index(ids))
    catalogue = dict(catalogue)
    new = rows < 0
    if new.any():
        catalogue = _with_new_items(model, catalogue, items[new], ids[new])
        rows[new] = len(catalogue_ids) + np.arange(int(new.sum()))
    embeddings = item_head_outputs(model, catalogue, rows, ())[1] if len(rows) else None
    places = _class_places(model, catalogue, rows, new)
    task_kinds = attribute_kinds(model)
    filled = items.copy()
    for column in [name for name in items.columns if name != id_column]:
        values = items[column].to_list()
        missing = np.array([_is_missing(value) for value in values], dtype=bool)
        kind = (kinds or {}).get(column) or task_kinds.get(column) or _kind(items[column], values)
        if kind not in _KINDS:
            raise ValueError(f"complete_attributes: kind {kind!r} of {column!r} is not {_KINDS}")
        if kind == "number":
            _check_numbers(column, values, missing, ids)
        completed = np.zeros(len(values), dtype=bool)
        share = np.full(len(values), np.nan)
        if missing.any() and (~missing).any() and embeddings is not None:
            neighbours, weights = _neighbours(
                embeddings, missing, places, num_neighbours, temperature
            )
            found, found_share = _completed_values(kind, values, missing, neighbours, weights)
            column_values = list(values)
            for position, value in zip(np.flatnonzero(missing), found, strict=True):
                column_values[position] = value
            filled[column] = pd.Series(column_values, index=items.index, dtype=object)
            if pd.api.types.is_numeric_dtype(items[column]):
                filled[column] = filled[column].astype(items[column].dtype)
            completed = missing
            if found_share is not None:
                share[missing] = found_share
        at = list(filled.columns).index(column) + 1
        filled.insert(at, f"{column}{COMPLETED_SUFFIX}", completed)
        if kind == "class":
            filled.insert(at + 1, f"{column}{SHARE_SUFFIX}", share)
    return filled


def _class_places(
    model: MultiTaskModel, catalogue: Mapping[str, np.ndarray], rows: np.ndarray, new: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`(wanted, keys)` per row of the table: `keys` the values of the single-valued class
    features the candidate tower reads (the shop's brand), joined; `wanted` the same for a
    new item holding them all, None for the other rows (catalogue items, new items missing
    one; every row when the tower reads no such feature)."""
    id_column = model.candidate_id_feature
    names = [
        name
        for name in model.candidate_tower.encoded_feature_names
        if name != id_column
        and np.asarray(catalogue[name]).ndim == 1
        and np.asarray(catalogue[name]).dtype.kind in "OSU"
    ]
    wanted = np.full(len(rows), None, dtype=object)
    if not names:
        return wanted, wanted.copy()
    values = [key_strings(np.asarray(catalogue[name])[rows]) for name in names]
    keys = np.array(["\x1f".join(parts) for parts in zip(*values, strict=True)], dtype=object)
    placed = new & np.all([column != "" for column in values], axis=0)
    wanted[placed] = keys[placed]
    return wanted, keys


def _neighbours(
    embeddings: np.ndarray,
    missing: np.ndarray,
    places: tuple[np.ndarray, np.ndarray],
    num_neighbours: int,
    temperature: float,
) -> tuple[np.ndarray, np.ndarray]:
    """`embedding_neighbours` of every missing row among the labelled rows; a new item's
    among the labelled rows that share its class features (`_class_places`) when any do:
    with no interactions, its place in the item space comes from those features alone, and
    the items that have them are the direct evidence."""
    wanted, keys = places
    queries = np.flatnonzero(missing)
    labelled = ~missing
    neighbours = np.full((len(queries), num_neighbours), -1, dtype=np.int64)
    weights = np.zeros((len(queries), num_neighbours))
    groups: dict[object, list[int]] = {}
    for position, query in enumerate(queries):
        groups.setdefault(wanted[query], []).append(position)
    for place, positions in groups.items():
        candidates = labelled
        if place is not None:
            sharing = labelled & (keys == place)
            candidates = sharing if sharing.any() else labelled
        found, found_weights = embedding_neighbours(
            embeddings,
            queries[positions],
            candidates,
            num_neighbours=num_neighbours,
            temperature=temperature,
        )
        neighbours[positions], weights[positions] = found, found_weights
    return neighbours, weights


def _with_new_items(
    model: MultiTaskModel,
    catalogue: dict[str, np.ndarray],
    new_items: pd.DataFrame,
    new_ids: np.ndarray,
) -> dict[str, np.ndarray]:
    """`catalogue` with the rows of items it lacks appended, built from the table's columns
    of the features the candidate tower reads (an id it did not train on reads its
    out-of-vocabulary row, as `Recommender.add_items` embeds one; a missing class its
    feature's, a missing number the catalogue's median). The catalogue's other columns
    (read by the ranking stack alone: the shop's price) cannot move an item in the item
    space; the table's values are kept where it has them, else they read as missing."""
    id_column = model.candidate_id_feature
    reads = [name for name in model.candidate_tower.encoded_feature_names if name != id_column]
    lacking = [name for name in reads if name not in new_items]
    if not reads or lacking:
        what = f"reads {reads}" if reads else "reads the item id alone"
        raise ValueError(
            f"complete_attributes: {len(new_ids)} id(s) not in the catalogue, e.g. "
            f"{new_ids[:5].tolist()}; a new item is placed by the features the candidate "
            f"tower reads, and it {what}" + (f" (the table lacks {lacking})" if reads else "")
        )
    signature = model.feature_signature("candidate")
    columns: dict[str, np.ndarray] = {id_column: new_ids}
    for name in [name for name in model.candidate_feature_names if name != id_column]:
        known = np.asarray(catalogue[name])
        spec = signature.get(name)
        if name in new_items:
            values = new_items[name].to_numpy()
        elif known.ndim == 1:
            values = np.full(len(new_ids), None, dtype=object)
        else:  # a multi-valued column the table lacks: no values (all padding)
            padding = padding_id_for(spec.dtype if spec is not None else tf.string)
            values = np.full((len(new_ids), *known.shape[1:]), padding, dtype=known.dtype)
        if spec is not None and spec.dtype == tf.string:
            # A missing class reads the feature's out-of-vocabulary row.
            values = key_strings(pd.Series(values).fillna("").astype(str).to_numpy())
        elif spec is not None and spec.dtype.is_floating:
            # A missing number (the price being completed) reads the catalogue's median, as
            # a held-out item's does (`--attribute-holdout`).
            numbers = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(np.float64)
            values = np.where(np.isnan(numbers), np.nanmedian(known), numbers)
        columns[name] = values
    prepared = prepare_catalogue(model, columns)
    combined = dict(catalogue)
    for name, values in prepared.items():
        known = np.asarray(catalogue[name])
        if known.ndim != values.ndim or known.shape[1:] != values.shape[1:]:
            raise ValueError(
                f"complete_attributes: the new items' {name!r} has shape {values.shape[1:]}, "
                f"the catalogue's {known.shape[1:]}"
            )
        if known.dtype.kind in "OUS":
            # Text as text, at the wider of the two widths: a catalogue read from its file
            # holds fixed-width strings, into which a longer new id would be cut short
            # (and could become a catalogue id).
            combined[name] = np.concatenate([known.astype(str), values.astype(str)])
        else:
            combined[name] = np.concatenate([known, values.astype(known.dtype, copy=False)])
    return combined


def attribute_kinds(model: MultiTaskModel) -> dict[str, AttributeKind]:
    """The kind of each column the model's item attribute tasks predict, by the task's name
    and by its label key (`genres` and `movie_genres`: `classes`)."""
    return {
        key: _TARGET_KINDS[task.target]
        for task in item_attribute_tasks(model.config)
        for key in (task.name, task.label_key)
    }


def _check_numbers(column: str, values: list[Any], missing: np.ndarray, ids: np.ndarray) -> None:
    """Refuses a number column whose given values are not finite numbers (text, infinity):
    read as labels, they would be averaged into every completion near them."""
    given = pd.Series(values, dtype=object)[~missing]
    numbers = pd.to_numeric(given, errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(numbers)
    if bad.any():
        examples = [f"{ids[row]}: {value!r}" for row, value in given[bad].head(3).items()]
        raise ValueError(
            f"complete_attributes: column {column!r} is a number column but {int(bad.sum())} "
            f"value(s) are not finite numbers, e.g. {', '.join(examples)}"
        )


def _is_missing(value: Any) -> bool:
    if isinstance(value, list | tuple | np.ndarray):
        return len(value) == 0
    return value is None or bool(pd.isna(value)) or value == ""


def _kind(column: pd.Series, values: list[Any]) -> AttributeKind:
    """A column's kind by its values: `classes` when one is a list, `number` for a float
    dtype, else `class`."""
    if any(isinstance(value, list | tuple | np.ndarray) for value in values):
        return "classes"
    if pd.api.types.is_float_dtype(column):
        return "number"
    return "class"


def _completed_values(
    kind: AttributeKind,
    values: list[Any],
    missing: np.ndarray,
    neighbours: np.ndarray,
    weights: np.ndarray,
) -> tuple[list[Any], np.ndarray | None]:
    """The completed values of the missing rows, and (a class column) each one's share."""
    labelled = [value for value, gone in zip(values, missing, strict=True) if not gone]
    if kind == "number":
        numbers = np.zeros((len(values), 1))
        numbers[~missing, 0] = np.asarray(labelled, dtype=np.float64)
        scores, _ = propagated_labels(neighbours, weights, numbers, numbers[~missing])
        return scores[:, 0].tolist(), None
    if kind == "classes":
        classes = sorted({item for value in labelled for item in value}, key=str)
    else:
        classes = sorted(set(labelled), key=str)
    position = {value: index for index, value in enumerate(classes)}
    matrix = np.zeros((len(values), len(classes)))
    for row, value in enumerate(values):
        if not missing[row]:
            members = value if kind == "classes" else [value]
            matrix[row, [position[member] for member in members]] = 1.0
    scores, chosen = propagated_labels(
        neighbours, weights, matrix, matrix[~missing], as_sets=kind == "classes"
    )
    if chosen is not None:
        return [[classes[c] for c in np.flatnonzero(row)] for row in chosen], None
    best = np.argmax(scores, axis=1)
    return [classes[c] for c in best], scores[np.arange(len(best)), best]
