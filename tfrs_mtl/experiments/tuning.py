"""`tune_experiment`: per-dataset search of the knobs that matter, on a validation carve-out.

The training rows of the experiment's split are split again (`validation_carve_out`, as the
served blend is fitted); each trial trains the experiment's model with some knobs changed on
the rest, and scores stage 1's exact ranking of the held-out interactions (NDCG@10, training
items masked) after every epoch. Optuna (Akiba et al., KDD 2019) proposes the knobs (TPE,
seeded) and stops trials whose epoch scores fall below the median of earlier trials at the
same epoch (`MedianPruner`); the search ends when the time budget is spent. No test row is
read. The best trial's knobs over the experiment's config are written as YAML for
`tfrs-mtl train --config`, beside a table and a plot of the trials.

Searched (`search_space`), where they apply: the retrieval temperature, the learning rate, the
epochs, the embedding size, each task's loss weight, the user-id and history dropouts, and
the item-item weight, each around the given config's value: the search refines a config
(the defaults, chosen across datasets, or the user's own) rather than starting afresh.
Where the config leaves the item-item weight to each run's carve-out
(`ExperimentConfig.fits_item_item_weight`), it is not searched: a trial's value is then its
last epoch's NDCG@10 at the weight (and recency) `fit_item_item_weight` picks on the same
held-out rows, as a run of the trial's config would serve it (its epoch scores, which the
pruner compares, are at the part's default weight).

A search over a few dozen trials picks, among configs of nearly equal worth, the one the
carve-out's noise favours most (the winner's curse). So the search stops early enough for a
confirmation: the given config and the search's `CONFIRMED_TRIALS` best trials that beat it
are trained again on a second carve-out (drawn with the next seed; on a split by time, the
same latest rows with the next training seed), and the one that scores best there is
returned. The given config is kept unless a searched one beats it on both carve-outs.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from tfrs_mtl.evaluation import evaluate_full_ranking
from tfrs_mtl.experiments import run_outputs as files
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    fit_split_state,
    load_experiment_data,
    split_experiment_data,
    validation_carve_out,
)
from tfrs_mtl.experiments.experiment_run import progress_logger, train_model, with_data_shape
from tfrs_mtl.experiments.item_item_fitting import fit_item_item_weight
from tfrs_mtl.experiments.model_evaluation import item_embeddings, user_embeddings
from tfrs_mtl.experiments.run_report import experiment_yaml

BEST_CONFIG_FILE = "best_config.yaml"
TRIALS_FILE = "trials.csv"
REPORT_FILE = "tuning.md"
PLOT_FILE = "tuning_history.png"
#: Epochs tried (the upper end bounds a trial's length).
EPOCH_RANGE = (2, 12)
#: The search's best trials (of those beating the given config) trained again on a second
#: carve-out, beside the given config.
CONFIRMED_TRIALS = 2
#: The largest share of the budget kept for the confirmation (estimated from trial 0's
#: length, once per config it trains).
CONFIRMATION_SHARE = 1 / 3


_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_budget(text: str) -> float:
    """A time budget in seconds: `"20m"`, `"90s"`, `"1.5h"` or a plain number of seconds.

    Raises:
        ValueError: naming the text and the accepted forms.
    """
    value = str(text).strip().lower()
    unit = _UNITS.get(value[-1:])
    number = value[:-1] if unit is not None else value
    try:
        seconds = float(number) * (unit or 1.0)
    except ValueError:
        seconds = float("nan")
    if not math.isfinite(seconds) or seconds <= 0 or seconds > 7 * 86_400:
        shown = value if len(value) <= 20 else value[:20] + "..."
        raise ValueError(
            f"budget {shown!r}: expected a positive duration such as 20m, 90s or 1.5h "
            "(at most 7 days)"
        )
    return seconds


@dataclasses.dataclass(frozen=True)
class TuningResult:
    """Attributes:
    best_config: the experiment's config with the chosen trial's knobs (the one the
        confirmation prefers; the config as given when no searched trial beats it there).
    best_value: the chosen trial's validation NDCG@10 on the search's carve-out (stage 1,
        held-out interactions).
    default_value: the experiment's own config on the same carve-out (the first trial).
    trials: one dict per trial: `number`, `state`, `value`, `seconds` and the knobs.
    out_dir: where the config, the table and the plot were written (or None).
    confirmation: one dict per config trained again on the second carve-out: `number` (its
        trial; 0 is the config as given), `value` (the search's carve-out), `confirmed`
        (the second carve-out) and `seconds`; empty when no searched trial beat the config
        as given on the search's carve-out.
    chosen_trial: the trial whose knobs `best_config` carries (0: the config as given).
    """

    best_config: ExperimentConfig
    best_value: float
    default_value: float | None
    trials: list[dict[str, Any]]
    out_dir: Path | None
    confirmation: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    chosen_trial: int = 0


#: A positive knob is searched within this factor of the given config's value, either way.
SPAN = 3.0
#: A dropout is searched within this distance of the given config's value.
DROPOUT_SPAN = 0.3
#: The widest dropout searched.
MAX_DROPOUT = 0.8
#: Where the given config turns the item-item part off, its weight is searched over this
#: range (log scale: its best weight spans orders of magnitude across data, 0.5 on
#: MovieLens-100K beside strong towers, 8 and above on RetailRocket's sparse clicks, where
#: EASE alone beats the towers).
ITEM_ITEM_RANGE = (0.1, 30.0)


def search_space(config: ExperimentConfig, data: ExperimentData) -> dict[str, Callable[[Any], Any]]:
    """The knobs a trial may change, each a function of an Optuna trial, for this data.

    The search refines the config it is given (the library's defaults, chosen across
    datasets, or the user's): each knob is drawn around the config's value, positive ones
    within a factor of `SPAN` on a log scale, dropouts within `DROPOUT_SPAN`, the epochs
    from 3 fewer to 4 more (within `EPOCH_RANGE`), the embedding size halved, kept or
    doubled; a part the config leaves off (the item-item weight 0) over its full range; on
    data with item categories, whether the candidate tower reads them (`category_input`)
    and the item-id dropout.
    """

    def around(name: str, value: float, low: float = 0.0, high: float = math.inf) -> Any:
        return lambda t: t.suggest_float(
            name, max(value / SPAN, low), min(value * SPAN, high), log=True
        )

    def dropout(name: str, value: float) -> Any:
        return lambda t: t.suggest_float(
            name, max(0.0, value - DROPOUT_SPAN), min(MAX_DROPOUT, value + DROPOUT_SPAN)
        )

    epochs = (max(EPOCH_RANGE[0], config.epochs - 3), min(EPOCH_RANGE[1], config.epochs + 4))
    sizes = sorted(
        {max(8, config.embedding_dim // 2), config.embedding_dim, config.embedding_dim * 2}
    )
    space: dict[str, Callable[[Any], Any]] = {
        "retrieval_temperature": around(
            "retrieval_temperature", config.retrieval_temperature, high=2.0
        ),
        "learning_rate": around("learning_rate", config.learning_rate),
        "epochs": lambda t: t.suggest_int("epochs", *epochs),
        "embedding_dim": lambda t: t.suggest_categorical("embedding_dim", sizes),
        "user_id_dropout": dropout("user_id_dropout", config.user_id_dropout),
    }
    model = config.model_config(data.frame.columns, data.num_items)
    weights = {task.name: task.weight for task in model.tasks if task.kind != "retrieval"}
    draws = {
        name: around(f"weight_{name}", weight if weight > 0 else 1.0)
        for name, weight in weights.items()
    }
    space["task_weights"] = lambda t: {name: draw(t) for name, draw in draws.items()}
    if data.history_length:
        space["history_dropout"] = dropout("history_dropout", config.history_dropout)
    if config.category_input_applies(data.frame.columns):
        # Items with few interactions embedded from their category (`category_input`), which
        # the item-id dropout teaches the candidate tower.
        space["item_id_dropout"] = dropout("item_id_dropout", config.resolved_item_id_dropout)
        space["category_input"] = lambda t: t.suggest_categorical("category_input", [False, True])
    if config.item_item_supported and not config.fits_item_item_weight:
        weight = config.item_item_weight_for(data.num_items)
        space["item_item_weight"] = (
            around("item_item_weight", weight)
            if weight > 0
            else lambda t: t.suggest_float("item_item_weight", *ITEM_ITEM_RANGE, log=True)
        )
    return space


class _EpochScores(tf.keras.callbacks.Callback):
    """Scores stage 1 on the held-out interactions after each epoch, reports it to the
    Optuna trial, and stops a trial that is pruned or past the deadline."""

    def __init__(self, score: Callable[[Any], float], trial: Any, deadline: float) -> None:
        super().__init__()
        self._score = score
        self._trial = trial
        self._deadline = deadline
        self.scores: list[float] = []
        self.pruned = False
        #: Stopped by the deadline before its last epoch: a trial of the epochs it ran.
        self.cut = False

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        value = self._score(self.model)
        self.scores.append(value)
        self._trial.report(value, epoch)
        if self._trial.should_prune():
            self.pruned = True
            self.model.stop_training = True
        elif time.monotonic() > self._deadline and epoch + 1 < self.params.get("epochs", 0):
            self.cut = True
            self.model.stop_training = True


def _held_out_ndcg(
    data: ExperimentData, fit_positions: np.ndarray, held_out: np.ndarray
) -> Callable[[Any], float]:
    train_pairs, held_pairs = data.pairs(fit_positions), data.pairs(held_out)

    def score(model: Any) -> float:
        query = user_embeddings(data, model, fit_positions)
        items = item_embeddings(data, model)
        found = evaluate_full_ranking(
            (query, items),
            train_pairs,
            held_pairs,
            num_users=data.num_users,
            num_items=data.num_items,
            ks=(10,),
        )
        return float(found.metrics["ndcg@10"])

    return score


def _config_of(base: ExperimentConfig, knobs: dict[str, Any]) -> ExperimentConfig:
    changes = dict(knobs)
    if "task_weights" in changes:
        changes["task_weights"] = {**base.task_weights, **changes["task_weights"]}
    return base.replace(**changes)


def tune_experiment(
    config: ExperimentConfig,
    budget_seconds: float,
    out_dir: str | Path | None = None,
    *,
    max_trials: int | None = None,
    progress: bool = True,
) -> TuningResult:
    """Searches `search_space` for `budget_seconds` on a validation carve-out, then confirms
    the best trials against the given config on a second carve-out.

    The first trial is `config` itself, and it is kept unless a searched trial beats it on
    the search's carve-out and again on the second one. After trial 0 the search keeps time for the
    confirmation: one trial 0's length per config it trains, at most `CONFIRMATION_SHARE`
    of the budget (a confirmation of longer trials can overrun the budget by the difference).

    Args:
        config: the experiment to tune (its dataset, split and fixed knobs).
        budget_seconds: wall time of the search and its confirmation; no trial starts after
            the search's share, and a running one stops at its next epoch end (it then counts
            as a trial of the epochs it ran).
        out_dir: where `best_config.yaml`, `trials.csv`, `tuning.md` and the plot go.
        max_trials: stop the search after this many trials (None: only the budget stops it).
        progress: log lines on stderr.

    Returns:
        A `TuningResult`.

    Raises:
        ValueError: `budget_seconds` is not positive.
        RuntimeError: no trial completed.
    """
    import optuna

    if not math.isfinite(budget_seconds) or budget_seconds <= 0:
        raise ValueError(f"budget_seconds={budget_seconds} must be a positive number of seconds")
    log = progress_logger(progress)
    start = time.monotonic()
    deadline = start + budget_seconds
    data = load_experiment_data(config)
    train_positions, _ = split_experiment_data(data, config.split)
    fraction = config.validation_fraction or 0.2
    fit_positions, held_out = validation_carve_out(
        data, train_positions, config.split, fraction, config.seed
    )
    # The trials start from what `train` would run on these rows, said as a run says it.
    shaped = with_data_shape(config, data, train_positions, log)
    fit_split_state(data, fit_positions)
    score = _held_out_ndcg(data, fit_positions, held_out)
    space = search_space(shaped, data)
    base = shaped.replace(validate_each_epoch=False, baselines=())
    log(
        f"tuning {config.dataset} for {budget_seconds:.0f} s: {len(fit_positions):,} rows "
        f"train each trial, {len(held_out):,} held out score it; knobs {sorted(space)}"
    )
    records: list[dict[str, Any]] = []
    # Trial 0 may run to the deadline; the later ones leave time for the confirmation.
    search_deadline = deadline

    def objective(trial: Any) -> float:
        knobs = {} if trial.number == 0 else {name: draw(trial) for name, draw in space.items()}
        trial_config = _config_of(base, knobs)
        scores = _EpochScores(score, trial, search_deadline)
        began = time.monotonic()
        model = train_model(
            trial_config, data, fit_positions, progress=False, callbacks=[scores]
        ).model
        value = scores.scores[-1] if scores.scores else float("nan")
        if scores.scores and not scores.pruned:
            value = _trial_value(model, trial_config, data, fit_positions, held_out, value)
        del model
        tf.keras.backend.clear_session()
        if scores.cut:
            # Its score is that of the epochs it ran: the trial stands for that config.
            trial.set_user_attr("epochs", len(scores.scores))
        state = "pruned" if scores.pruned else "cut at the deadline" if scores.cut else "complete"
        records.append(
            {
                "number": trial.number,
                "state": state,
                "value": value,
                "seconds": time.monotonic() - began,
                **{key: trial.params[key] for key in sorted(trial.params)},
            }
        )
        log(
            f"trial {trial.number}: NDCG@10 {value:.4f} after {len(scores.scores)} of "
            f"{trial_config.epochs} epochs ({records[-1]['state']})"
        )
        if scores.pruned:
            raise optuna.TrialPruned()
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=config.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
    )
    study.optimize(objective, n_trials=1, gc_after_trial=True)
    reserve = min(
        (CONFIRMED_TRIALS + 1) * records[0]["seconds"],
        CONFIRMATION_SHARE * budget_seconds,
    )
    search_deadline = deadline - reserve
    if (max_trials is None or max_trials > 1) and time.monotonic() < search_deadline:
        study.optimize(
            objective,
            n_trials=None if max_trials is None else max_trials - 1,
            timeout=search_deadline - time.monotonic(),
            gc_after_trial=True,
        )
    completed = [
        trial
        for trial in study.trials
        if trial.state.name == "COMPLETE" and trial.value is not None
    ]
    if not completed:
        raise RuntimeError(
            f"no trial completed within {budget_seconds:.0f} s; give a larger budget"
        )
    contenders = sorted(completed, key=lambda trial: -float(trial.value or 0.0))
    given = [trial for trial in completed if trial.number == 0]
    default = float(given[0].value or 0.0) if given else None
    # Only a trial that beat the given config here may replace it, if it beats it again.
    bar = -math.inf if default is None else default
    searched = [
        trial for trial in contenders if trial.number != 0 and float(trial.value or 0.0) > bar
    ][:CONFIRMED_TRIALS]
    confirmation: list[dict[str, Any]] = []
    chosen = given[0] if given else contenders[0]
    if searched and given:
        candidates = [*given, *searched]
        confirmation = _confirm(base, candidates, space, data, train_positions, fraction, log)
        # The first best: the given config on a tie.
        chosen, _ = max(zip(candidates, confirmation, strict=True), key=lambda c: c[1]["confirmed"])
    best_config = _config_of(config, _trial_knobs(chosen, space))
    result = TuningResult(
        best_config,
        float(chosen.value or 0.0),
        default,
        records,
        None,
        confirmation,
        chosen.number,
    )
    if out_dir is not None:
        result = dataclasses.replace(result, out_dir=write_tuning_report(result, Path(out_dir)))
    log(
        f"chose trial {chosen.number}: NDCG@10 {chosen.value:.4f}"
        + (f" (the config as given: {default:.4f})" if default is not None else "")
        + f"; {time.monotonic() - start:.0f} s of {budget_seconds:.0f} s"
    )
    return result


def _trial_value(
    model: Any,
    config: ExperimentConfig,
    data: ExperimentData,
    fit_positions: np.ndarray,
    held_out: np.ndarray,
    value: float,
) -> float:
    """A trained trial's value: its last epoch's `value`, or, where the config leaves the
    item-item weight to each run's carve-out, the NDCG@10 at the weight a run would fit."""
    if _fits_item_item_weight(model, config):
        return carve_out_ndcg(model, config, data, fit_positions, held_out)
    return float(value)


def _fits_item_item_weight(model: Any, config: ExperimentConfig) -> bool:
    """Whether a run of `config` fits `model`'s item-item weight on its carve-out."""
    return bool(config.fits_item_item_weight and model.item_item is not None)


def carve_out_ndcg(
    model: Any,
    config: ExperimentConfig,
    data: ExperimentData,
    fit_positions: np.ndarray,
    held_out: np.ndarray,
) -> float:
    """What a search scores a model trained on `fit_positions` by: stage 1's exact NDCG@10
    of the `held_out` interactions (the user's fitting items masked), at the item-item
    weight and recency a run of `config` fits on the same rows where it leaves them to the
    data (`fit_item_item_weight`), else as the model is. One ranking pass per weight tried,
    or one of the model as it is: never both."""
    if _fits_item_item_weight(model, config):
        fitted = fit_item_item_weight(model, data, fit_positions, held_out)
        return float(fitted.ndcg[fitted.weight])
    return _held_out_ndcg(data, fit_positions, held_out)(model)


def _trial_knobs(trial: Any, space: dict[str, Any]) -> dict[str, Any]:
    """The config fields a finished trial ran with (trial 0: none; a cut trial: its epochs)."""
    knobs = {} if trial.number == 0 else _knobs_of(trial.params, space)
    if "epochs" in trial.user_attrs:
        knobs["epochs"] = int(trial.user_attrs["epochs"])
    return knobs


def _confirm(
    base: ExperimentConfig,
    trials: list[Any],
    space: dict[str, Any],
    data: ExperimentData,
    train_positions: np.ndarray,
    fraction: float,
    log: Callable[[str], None],
) -> list[dict[str, Any]]:
    """Trains each trial's config again on a second carve-out of the training rows (the next
    seed) and scores it there as the search did; one record per trial, in the given order."""
    seed = base.seed + 1
    fit_positions, held_out = validation_carve_out(
        data, train_positions, base.split, fraction, seed
    )
    fit_split_state(data, fit_positions)
    log(
        f"confirming trials {[trial.number for trial in trials]} on a second carve-out "
        f"(seed {seed}): {len(fit_positions):,} rows train, {len(held_out):,} score"
    )
    found = []
    for trial in trials:
        trial_config = _config_of(base, _trial_knobs(trial, space)).replace(seed=seed)
        began = time.monotonic()
        model = train_model(trial_config, data, fit_positions, progress=False).model
        value = carve_out_ndcg(model, trial_config, data, fit_positions, held_out)
        del model
        tf.keras.backend.clear_session()
        found.append(
            {
                "number": trial.number,
                "value": float(trial.value or 0.0),
                "confirmed": value,
                "seconds": time.monotonic() - began,
            }
        )
        log(
            f"trial {trial.number} on the second carve-out: NDCG@10 {value:.4f} "
            f"(first: {trial.value:.4f})"
        )
    return found


def _knobs_of(params: dict[str, Any], space: dict[str, Any]) -> dict[str, Any]:
    """The config fields of a trial's Optuna parameters (`weight_<task>` -> task_weights)."""
    knobs: dict[str, Any] = {}
    weights = {
        name[len("weight_") :]: value
        for name, value in params.items()
        if name.startswith("weight_")
    }
    if weights:
        knobs["task_weights"] = weights
    knobs.update({name: value for name, value in params.items() if name in space})
    return knobs


def write_tuning_report(result: TuningResult, out: Path) -> Path:
    """Writes `best_config.yaml`, `trials.csv`, `tuning.md` and the plot into `out`."""
    import pandas as pd

    out.mkdir(parents=True, exist_ok=True)
    files.write_text_atomically(out / BEST_CONFIG_FILE, experiment_yaml(result.best_config))
    table = pd.DataFrame.from_records(result.trials)
    files.write_text_atomically(out / TRIALS_FILE, table.to_csv(index=False))
    ranked = table.sort_values("value", ascending=False, na_position="last")
    chosen = (
        "the config as given"
        if result.chosen_trial == 0
        else f"trial {result.chosen_trial}'s knobs"
    )
    lines = [
        "# Tuning on a validation carve-out of the training rows",
        "",
        f"- chosen: {chosen}, validation NDCG@10 (stage 1) {result.best_value:.4f}"
        + (
            f"; the config as given: {result.default_value:.4f}"
            if result.default_value is not None
            else ""
        ),
        f"- best config: `{BEST_CONFIG_FILE}` (`tfrs-mtl train --config {BEST_CONFIG_FILE}`)",
        f"- trials: {len(table)} ({int((table['state'] == 'pruned').sum())} pruned); trial 0 "
        "is the config as given (its knobs left blank)",
    ]
    if result.confirmation:
        lines += [
            "- confirmation: the search's best trials and the config as given, trained again "
            "on a second carve-out (the next seed); the best there is chosen",
            "",
            "| trial | NDCG@10, search carve-out | NDCG@10, second carve-out | seconds |",
            "|---|---|---|---|",
            *(
                f"| {c['number']} | {c['value']:.4f} | {c['confirmed']:.4f} | {c['seconds']:.0f} |"
                for c in result.confirmation
            ),
        ]
    lines += [
        "",
        *_markdown_table(ranked),
        "",
        f"![validation NDCG@10 by trial]({PLOT_FILE})",
        "",
    ]
    files.write_text_atomically(out / REPORT_FILE, "\n".join(lines))
    _plot(result.trials, out / PLOT_FILE)
    return out


def _markdown_table(frame: Any) -> list[str]:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if math.isnan(value) else f"{value:.4g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |"]
    lines.append("|" + "---|" * len(frame.columns))
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(False)]
    return lines


def _plot(trials: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(6, 3.5))
    done = [
        (trial["number"], trial["value"])
        for trial in trials
        if trial["state"] == "complete" and math.isfinite(trial["value"])
    ]
    if done:
        numbers, scores = zip(*done, strict=True)
        axis.plot(numbers, scores, "o", label="trial")
        axis.plot(numbers, np.maximum.accumulate(np.asarray(scores)), "-", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel("validation NDCG@10")
    axis.set_title(f"{len(trials)} trials ({len(done)} complete)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
