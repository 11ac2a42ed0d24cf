"""Fitting the served blend: the weights of stage 2's scores that rank a held-out set best.

Given each validation user's candidates as stage 1 serves them (every candidate with its
retrieval score and every ranking task's score: `served_lists` with `k = num_candidates`)
and the user's held-out interactions with their gains (1 each, or the rating given: graded
relevance), `fit_blend` searches the blend weights (`tfrs_mtl.serving.blend`: standardised
scores, probabilities as log-probabilities) that maximise the mean NDCG@k of the re-ranked
lists. The search is a coordinate ascent over a
grid of weights, starting from stage 1 alone (`{"retrieval": 1}`), that keeps a change
only when it raises the validation NDCG: a blend that does not beat stage 1 on the
held-out rows is never chosen.

The rows it reads must be held out of the model whose candidates are scored: fitting on the
model's own training rows would reward memorisation. `tfrs_mtl.experiments` fits on a
carve-out of the training rows (`ExperimentConfig.validation_fraction`), never on test rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from tfrs_mtl.evaluation import GradedRelevance, discounts_at
from tfrs_mtl.experiments.served_evaluation import ServedLists
from tfrs_mtl.serving.blend import RETRIEVAL_SCORE, standardised_scores

#: The NDCG cut-off the served blend is fitted at: the order of the first 50 candidates
#: (the served page and what follows), which holds several held-out items per user where
#: NDCG@10 holds one or none; a rare target (purchases) then shows a real gain beyond the
#: standard-error rule, and on MovieLens the fit also scores better at NDCG@10 on held-out
#: users than a fit at 10 does.
FIT_CUTOFF = 50
#: The weights tried for each score.
BLEND_GRID: tuple[float, ...] = (0.0, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
#: A change of weights must raise the validation NDCG by more than this, and by more than
#: this many standard errors of the per-user differences.
MIN_GAIN = 1e-6
GAIN_STANDARD_ERRORS = 1.0


@dataclasses.dataclass(frozen=True)
class BlendFit:
    """Attributes:
    blend: the chosen weights `{score: weight}` (zero weights left out).
    ndcg: the validation NDCG@k of the lists it serves.
    stage_one_ndcg: the validation NDCG@k of stage 1's order (`{"retrieval": 1}`).
    num_users: validation users scored.
    k: the cut-off.
    item_item_weight: the item-item part's served weight fitted on the same carve-out
        before the blend (`tfrs_mtl.experiments.item_item_fitting`), or None when it was
        not fitted (no part, or a weight the config fixes).
    item_item_recency: the part's recency fitted with that weight (0 where the histories
        are not ordered by time), or None when the weight was not fitted.
    train_seconds: wall seconds spent training the carve-out model, or None where no model
        was trained for the fit.
    history: the carve-out model's Keras `History.history`: its training losses and, with
        `validate_each_epoch`, `val_*`, its losses on the carve-out after each epoch (rows
        it never trained on); None where no model was trained for the fit.
    """

    blend: dict[str, float]
    ndcg: float
    stage_one_ndcg: float
    num_users: int
    k: int
    item_item_weight: float | None = None
    item_item_recency: float | None = None
    train_seconds: float | None = None
    history: dict[str, list[float]] | None = None


@dataclasses.dataclass(frozen=True)
class HeldOut:
    """The held-out interactions a blend is fitted to rank, with their gains.

    Attributes:
        user_indices: `[n]` user of each pair.
        item_indices: `[n]` item of each pair.
        gains: `[n]` positive gain of each pair (1 for binary relevance; the rating for
            graded relevance).
    """

    user_indices: np.ndarray
    item_indices: np.ndarray
    gains: np.ndarray


class _Objective:
    """The mean NDCG@k (graded by the held-out gains) of the candidates re-ranked by a
    weight vector, over the users with a held-out pair."""

    def __init__(
        self,
        candidates: ServedLists,
        held_out: HeldOut,
        probability_tasks: Sequence[str],
        k: int,
    ) -> None:
        users = candidates.user_indices
        valid = candidates.valid
        self.names = tuple(candidates.scores)
        self.k = min(k, valid.shape[1])
        self.discounts = discounts_at(self.k)
        num_items = (
            int(
                max(
                    np.max(held_out.item_indices, initial=0),
                    np.max(candidates.item_rows, initial=0),
                )
            )
            + 1
        )
        relevance = GradedRelevance(
            held_out.user_indices, held_out.item_indices, held_out.gains, num_items=num_items
        )
        ideal = relevance.ideal_dcg(users, self.k)
        keep = ideal > 0
        self.valid = valid[keep]
        self.gains = relevance.gains(users[keep], candidates.item_rows[keep])
        self.ideal = ideal[keep]
        self.num_users = int(keep.sum())
        self.standardised = np.stack(
            [
                standardised_scores(
                    candidates.scores[name][keep],
                    self.valid,
                    is_probability=name in probability_tasks,
                )
                for name in self.names
            ],
            axis=-1,
        )

    def per_user(self, weights: np.ndarray) -> np.ndarray:
        """`[num_users]` each user's NDCG@k under `weights`."""
        blended = np.where(self.valid, self.standardised @ weights, -np.inf)
        # Stable on ties, best first, like the serving graph's top-k on equal scores.
        order = np.argsort(-blended, axis=1, kind="stable")[:, : self.k]
        gains = np.take_along_axis(self.gains, order, axis=1)
        return (gains * self.discounts).sum(axis=1) / self.ideal

    def __call__(self, weights: np.ndarray) -> float:
        return float(self.per_user(weights).mean()) if self.num_users else 0.0


def fit_blend(
    candidates: ServedLists,
    held_out: HeldOut,
    probability_tasks: Sequence[str] = (),
    *,
    k: int = FIT_CUTOFF,
    grid: Sequence[float] = BLEND_GRID,
    max_rounds: int = 3,
) -> BlendFit:
    """The blend that maximises the validation NDCG@k of the re-ranked candidates.

    Args:
        candidates: each validation user's stage-1 candidates with every score (`"retrieval"`
            and each ranking task), as `served_lists(..., k=num_candidates)` returns them.
        held_out: the users' held-out interactions (item indices of the same data) and
            their gains (graded NDCG; all 1 for binary relevance).
        probability_tasks: the scores that are probabilities (log-probabilities in the blend).
        k: the NDCG cut-off.
        grid: the weights tried for each score.
        max_rounds: at most `max_rounds` changes per score are made.

    Returns:
        A `BlendFit`; its blend is `{"retrieval": 1}` when nothing beats stage 1.
    """
    objective = _Objective(candidates, held_out, probability_tasks, k)
    names = objective.names
    weights = np.array([1.0 if name == RETRIEVAL_SCORE else 0.0 for name in names])
    current = objective.per_user(weights) if objective.num_users else np.zeros(0)
    stage_one = float(current.mean()) if current.size else 0.0
    for _ in range(max_rounds * len(names)):
        # Steepest ascent: the best single change of one weight, kept if it is a real gain.
        best_gain, best_trial, best_found = 0.0, None, current
        for position in range(len(names)):
            for value in grid:
                trial = weights.copy()
                trial[position] = value
                if not trial.any() or value == weights[position] or not current.size:
                    continue
                found = objective.per_user(trial)
                gain = float((found - current).mean())
                if gain > best_gain:
                    best_gain, best_trial, best_found = gain, trial, found
        if best_trial is None or not _significant_gain(best_found - current):
            break
        weights, current = best_trial, best_found
    blend = {name: float(weight) for name, weight in zip(names, weights, strict=True) if weight}
    best = float(current.mean()) if current.size else 0.0
    return BlendFit(blend, best, stage_one, objective.num_users, objective.k)


def _significant_gain(differences: np.ndarray) -> bool:
    """Whether per-user NDCG differences raise the mean by more than `MIN_GAIN` and by more
    than `GAIN_STANDARD_ERRORS` standard errors of that mean (a paired comparison): on few
    held-out users, a change that wins by chance is not taken."""
    mean = float(differences.mean())
    error = (
        float(differences.std(ddof=1) / np.sqrt(differences.size)) if differences.size > 1 else 0.0
    )
    return mean > MIN_GAIN and mean > GAIN_STANDARD_ERRORS * error
