"""`Recommendations`: the top-k items of a batch of queries with every score, as numpy."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclasses.dataclass(frozen=True)
class Recommendations:
    """Results of `recommend` (or `retrieve`) for `batch_size` queries.

    Rows are queries, columns ranks (best first). Slots left empty, when fewer than `k` unseen
    items exist, hold the padding id ("" or -1) and NaN scores.

    Attributes:
        item_ids: `[batch_size, k]` candidate ids (str for string ids).
        retrieval_scores: `[batch_size, k]` float32 index scores (higher is better).
        scores: `{task: [batch_size, k]}` float32 ranker scores (ratings, probabilities).
        final_scores: `[batch_size, k]` float32 blended scores that give the order.
    """

    item_ids: np.ndarray
    retrieval_scores: np.ndarray
    scores: dict[str, np.ndarray]
    final_scores: np.ndarray

    @property
    def batch_size(self) -> int:
        return int(self.item_ids.shape[0])

    @property
    def k(self) -> int:
        return int(self.item_ids.shape[1])

    @classmethod
    def from_tensors(
        cls, outputs: Mapping[str, Any], task_names: tuple[str, ...]
    ) -> Recommendations:
        """Builds from the serving graph's output dict (`scores/<task>` keys)."""
        ids = np.asarray(outputs["item_ids"])
        if ids.dtype == object:
            ids = np.vectorize(lambda value: value.decode("utf-8"), otypes=[object])(ids)
        retrieval = np.asarray(outputs["retrieval_scores"], np.float32)
        final = outputs.get("final_scores", retrieval)
        return cls(
            item_ids=ids,
            retrieval_scores=retrieval,
            scores={
                task: np.asarray(outputs[f"scores/{task}"], np.float32)
                for task in task_names
                if f"scores/{task}" in outputs
            },
            final_scores=np.asarray(final, np.float32),
        )

    @classmethod
    def empty(cls, k: int, task_names: tuple[str, ...], id_dtype: Any = object) -> Recommendations:
        """Results of an empty batch: arrays of shape `[0, k]`."""
        scores = np.zeros((0, k), np.float32)
        return cls(
            item_ids=np.zeros((0, k), id_dtype),
            retrieval_scores=scores,
            scores={task: scores.copy() for task in task_names},
            final_scores=scores.copy(),
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per (query, rank): `query`, `rank` (1-based), `item_id`, scores.

        Empty slots are left out.
        """
        records = []
        for query in range(self.batch_size):
            for rank in range(self.k):
                final = float(self.final_scores[query, rank])
                if np.isnan(final):
                    continue
                item_id = self.item_ids[query, rank]
                record: dict[str, Any] = {
                    "query": query,
                    "rank": rank + 1,
                    "item_id": item_id.item() if isinstance(item_id, np.generic) else item_id,
                    "retrieval_score": float(self.retrieval_scores[query, rank]),
                }
                for task, values in self.scores.items():
                    record[f"{task}_score"] = float(values[query, rank])
                record["final_score"] = final
                records.append(record)
        return records

    def to_frame(self) -> pd.DataFrame:
        """The records as a pandas DataFrame (one row per query and rank)."""
        import pandas as pd

        columns = ["query", "rank", "item_id", "retrieval_score"]
        columns += [f"{task}_score" for task in self.scores] + ["final_score"]
        return pd.DataFrame.from_records(self.to_records(), columns=columns)
