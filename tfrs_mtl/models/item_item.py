"""The fixed item-item matrix of `MultiTaskConfig.item_item_weight`, fitted on training rows.

EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019) over the binary
query x item matrix of the training rows, indexed by the rows of the candidate id's embedding
table (rows no training row reaches, OOV buckets included, stay 0). The model's
`ItemItemPart` (`tfrs_mtl.layers.item_item_part`) holds it transposed: its row c is what each
history row adds to candidate c's score. Added to the served score only
(`item_item_train_weight=0`), it puts a full-rank item-item model beside the trained towers in
the same dot product.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl._ease import binary_gram, density_scaled_l2, ease_weights
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.models.multitask_config import MultiTaskConfig

#: The largest item table the dense matrix is built for: 20,000 rows are 1.6 GB in float32
#: (and twice that while the closed form inverts a copy of the Gram matrix in place).
MAX_ITEM_ITEM_ROWS = 20_000


def fit_item_item(
    shared_embeddings: Any, config: MultiTaskConfig, train_arrays: Mapping[str, np.ndarray]
) -> np.ndarray:
    """`[num_rows, num_rows]` float32 `W`, `W[c, h]` = EASE's weight of history row h for
    candidate row c (`B[h, c]`), with `item_item_l2(config, gram)` as EASE's λ.

    Args:
        shared_embeddings: the model's `SharedEmbeddings` (maps ids to table rows).
        config: the model's config (`query_id_feature`, `candidate_id_feature`,
            `item_item_l2`, the retrieval task's `sample_weight_key`).
        train_arrays: the TRAINING rows; each distinct query id is one row of EASE's matrix.
            Only the retrieval positives count: with a retrieval `sample_weight_key` (e.g.
            `click` beside sampled unclicked impressions), the rows where it is > 0.

    Raises:
        ValueError: the candidate table has more than `MAX_ITEM_ITEM_ROWS` rows, or the
            arrays lack the id features or the positives' column.
    """
    table = shared_embeddings.table_name(config.candidate_id_feature)
    num_rows = shared_embeddings.num_rows(table)
    if num_rows > MAX_ITEM_ITEM_ROWS:
        raise ValueError(
            f"item_item_weight={config.item_item_weight}: the {table!r} table has {num_rows:,} "
            f"rows, above MAX_ITEM_ITEM_ROWS={MAX_ITEM_ITEM_ROWS:,} (the item-item matrix is "
            "dense); set item_item_weight=0"
        )
    missing = [
        name
        for name in (config.query_id_feature, config.candidate_id_feature)
        if name not in train_arrays
    ]
    weight_key = _positives_key(config)
    if weight_key is not None and weight_key not in train_arrays:
        missing.append(weight_key)
    if missing:
        raise ValueError(f"fit_item_item: the training arrays lack {missing}")
    positive = np.ones(len(train_arrays[config.candidate_id_feature]), bool)
    if weight_key is not None:
        # Sampled impressions (e-commerce rows the user never clicked) are not interactions.
        positive = np.asarray(train_arrays[weight_key]) > 0
    query_ids = np.asarray(train_arrays[config.query_id_feature])[positive]
    _, users = np.unique(key_strings(query_ids), return_inverse=True)
    ids = tf.constant(np.asarray(train_arrays[config.candidate_id_feature])[positive])
    items = shared_embeddings.lookup(config.candidate_id_feature, ids).numpy()
    gram = binary_gram(users, items, num_rows)
    weights = ease_weights(gram, item_item_l2(config, gram))
    return np.ascontiguousarray(weights.T)


def item_item_l2(config: MultiTaskConfig, gram: np.ndarray) -> float:
    """EASE's λ for the item-item part: `config.item_item_l2`, or with None
    `density_scaled_l2` of the mean number of users per interacted item (the mean of `gram`'s
    nonzero diagonal), so that λ keeps its weight against the Gram matrix whatever the data's
    density (doubling every user leaves the matrix unchanged)."""
    if config.item_item_l2 is not None:
        return float(config.item_item_l2)
    counts = np.diagonal(gram)
    counts = counts[counts > 0]
    return density_scaled_l2(float(counts.mean()) if counts.size else 1.0)


def _positives_key(config: MultiTaskConfig) -> str | None:
    """The 0/1 column marking the retrieval positives among the rows, or None (all rows)."""
    retrieval = [task for task in config.tasks if task.kind == "retrieval"]
    return retrieval[0].sample_weight_key if retrieval else None
