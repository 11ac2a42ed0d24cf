"""`run_experiment`: data -> split -> vocabularies (train only) -> fit -> index -> evaluate ->
baselines -> model, export and report in one run folder.

Layout of a run folder `OUT`:

    experiment.yaml      the ExperimentConfig (re-run or re-evaluate from it)
    model/               config + vocabularies + weights (`MultiTaskModel.save_model`)
    export/              the two-stage recommender (SavedModel + manifest, ScaNN index) and
                         serving_data.npz (users' query features, seen items, item labels)
    serving_data.npz     the same, for `tfrs-mtl export`
    item_catalogue.npz   candidate features of every item (`Catalogue`), for `tfrs-mtl export`
    metrics.json         flat metrics (see `tfrs_mtl.evaluation.flatten_metrics`)
    history.json         per-epoch losses, task weights and metrics, and the validation
                         carve-out's losses (`run_history`); history.csv as CSV
    report.md            tables and plots (loss_curves.png, task_weights.png, recall_at_k.png)
    tensorboard/         TensorBoard logs
    checkpoints/         weights after every epoch (ModelCheckpoint)
    .backup/             only while the run is unfinished: the training backup (see below)
    INCOMPLETE           only while the run is unfinished: from its first write in OUT
                         until metrics.json is in place (`run_outputs.mark_incomplete`)
    .lock                only while a process writes OUT: who it is (`run_lock`)

Resuming. While it trains, a run keeps `OUT/.backup/` (`training_backup.TrainingBackup`): its
`experiment.yaml`, the fitted served blend (`served_blend.json`, written before the served
model trains), a checkpoint of the whole training state every `backup_every_steps` steps and
at each epoch's end, and the finished epochs' logs. It is removed once the run folder is
complete (`metrics.json` written). A run killed at any point after its data loaded (SIGKILL
included) and started again with the same config and `OUT` resumes from that checkpoint and
ends with the same metrics as an uninterrupted run (bit for bit with op determinism on and
no dropout). The rules for an existing `OUT`:

* is locked by another process: refused, naming it (pid, host, start, command);
* holds `.backup/` with the same `experiment.yaml`: resumed (a line on stderr says where);
  with another config: refused unless `overwrite` (which starts over);
* is marked `INCOMPLETE` (or holds experiment.yaml without metrics.json) and has no backup:
  started over, with a line on stderr;
* otherwise not empty (e.g. a finished run): refused unless `overwrite`.

A run that fails with an exception (bad input, `TrainingDivergedError`) removes its training
folders (`.backup/`, `tensorboard/`, `checkpoints/`) and an `OUT` it created; one that fails
for want of space or permission (an `OSError`, TensorFlow's `ResourceExhaustedError`) keeps
its backup and raises `IncompleteRunError`: once the disk is fixed, the same command
resumes. An interrupt (Ctrl-C) keeps the backup too. Until the run completes, `OUT` is marked
`INCOMPLETE` and `evaluate`, `export` and `recommend` refuse it.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import errno
import gc
import io
import json
import math
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfrs_mtl._atomic_files import refuse_links_inside
from tfrs_mtl._input_files import path_kind
from tfrs_mtl._messages import os_error_text, tensorflow_error_text
from tfrs_mtl.evaluation import UserItemSets
from tfrs_mtl.evaluation.metrics_schema import flatten_metrics
from tfrs_mtl.experiments import run_outputs as files
from tfrs_mtl.experiments.attribute_evaluation import heldout_model_metrics, single_task_config
from tfrs_mtl.experiments.attribute_holdout import with_attribute_weights
from tfrs_mtl.experiments.blend_fitting import BlendFit, HeldOut, fit_blend
from tfrs_mtl.experiments.experiment_baselines import BaselineEvaluation, run_baselines
from tfrs_mtl.experiments.experiment_config import (
    MAX_FULL_CATALOGUE_ITEMS,
    MAX_ITEM_ITEM_ITEMS,
    ExperimentConfig,
)
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    feature_arrays,
    fit_split_state,
    load_experiment_data,
    resolved_blend_target,
    seen_once_share,
    select_columns,
    split_experiment_data,
    target_gains,
    training_feature_arrays,
    validation_carve_out,
)
from tfrs_mtl.experiments.item_item_fitting import ITEM_ITEM_CUTOFF, fit_item_item_weight
from tfrs_mtl.experiments.model_evaluation import evaluate_model, item_catalogue, user_table
from tfrs_mtl.experiments.run_lock import LOCK_FILE, output_lock
from tfrs_mtl.experiments.run_outputs import IncompleteRunError
from tfrs_mtl.experiments.run_report import experiment_yaml, write_run_report
from tfrs_mtl.experiments.served_evaluation import seen_items, served_lists
from tfrs_mtl.experiments.serving_data import FILE_NAME as SERVING_DATA_FILE
from tfrs_mtl.experiments.serving_data import ServingData
from tfrs_mtl.experiments.training_backup import (
    TrainingBackup,
    full_history,
    resumable_stream,
    saved_position,
)
from tfrs_mtl.models import Catalogue, MultiTaskModel, build_dataset, build_optimizer
from tfrs_mtl.serving import Recommender
from tfrs_mtl.serving import save as save_export
from tfrs_mtl.serving.blend import RETRIEVAL_SCORE, format_blend
from tfrs_mtl.tasks import LossWeightingCallback

Log = Callable[[str], None]
CATALOGUE_FILE = "item_catalogue.npz"
BACKUP_DIR = files.BACKUP_DIR
HISTORY_CSV = "history.csv"
TRAINING_FOLDERS = (BACKUP_DIR, files.TENSORBOARD_DIR, files.CHECKPOINT_DIR)
DEFAULT_BACKUP_EVERY_STEPS = 100
#: In `.backup/`: the fitted served blend, so that a resumed run does not fit it again.
BLEND_FIT_FILE = "served_blend.json"


@dataclasses.dataclass(frozen=True, eq=False)
class ExperimentResult:
    """What a run produced.

    Attributes:
        config: the experiment.
        metrics: the flat `metrics.json` content.
        nested_metrics: the model's `{task: {metric: value}}`.
        baselines: the baselines' metrics and curves.
        history: the served model's Keras `History.history` (training losses, task
            weights), with the validation curves (`run_history`): `val_*`, the losses on the
            validation carve-out of the model the blend fit trained without it.
        train_seconds: wall time of the served model's `fit`.
        model: the trained model.
        recommender: the in-process two-stage recommender.
        serving_data: known users' query features, seen items, item labels.
        catalogue: candidate features of every served item, in item-index order.
        out_dir: the run folder (None when nothing was written).
        interest_classes: the classes (category names, genre ids) of the interest task's
            outputs, in order; None without an interest task.
    """

    config: ExperimentConfig
    metrics: dict[str, float]
    nested_metrics: dict[str, dict[str, float]]
    baselines: BaselineEvaluation
    history: dict[str, list[float]]
    train_seconds: float
    model: MultiTaskModel
    recommender: Recommender
    serving_data: ServingData
    catalogue: dict[str, np.ndarray]
    out_dir: Path | None
    interest_classes: np.ndarray | None = None


class PhaseTimes:
    """Wall seconds of a run's phases, in the order they ran (`seconds/<phase>` in
    metrics.json): `load`, `blend_fit`, `train`, `index`, `evaluate`, `baselines`, `export`."""

    def __init__(self, seconds: dict[str, float] | None = None) -> None:
        self.seconds: dict[str, float] = dict(seconds or {})

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    def summary(self) -> str:
        return ", ".join(f"{name} {value:.1f} s" for name, value in self.seconds.items())


def progress_logger(progress: bool) -> Log:
    def log(message: str) -> None:
        if progress:
            print(f"[tfrs-mtl] {message}", file=sys.stderr, flush=True)

    return log


def _model_columns(model: MultiTaskModel) -> set[str]:
    config = model.config
    names = {feature.name for feature in config.features.features}
    for task in config.tasks:
        names.update(key for key in (task.label_key, task.sample_weight_key) if key)
    return names


def _callbacks(
    out: Path | None, resume: bool, backup_every_steps: int, steps_per_epoch: int
) -> list[tf.keras.callbacks.Callback]:
    if out is None:
        return [LossWeightingCallback()]
    if not resume:
        for name in (files.TENSORBOARD_DIR, files.CHECKPOINT_DIR):
            shutil.rmtree(out / name, ignore_errors=True)  # a previous run's, when overwriting
    (out / files.CHECKPOINT_DIR).mkdir(exist_ok=True)
    return [
        tf.keras.callbacks.TensorBoard(
            log_dir=str(out / files.TENSORBOARD_DIR), write_graph=False, profile_batch=0
        ),
        tf.keras.callbacks.ModelCheckpoint(
            str(out / files.CHECKPOINT_DIR / "epoch-{epoch:03d}"),
            save_weights_only=True,
            save_freq="epoch",
        ),
        # Before the backup: an epoch's backup must hold the weighting's end-of-epoch state.
        LossWeightingCallback(),
        TrainingBackup(out / BACKUP_DIR, backup_every_steps, steps_per_epoch),
    ]


def serving_data_of(
    data: ExperimentData,
    model: MultiTaskModel,
    users: dict[str, np.ndarray],
    catalogue: dict[str, np.ndarray],
    train_positions: np.ndarray,
) -> ServingData:
    users_seen, items_seen = data.pairs(train_positions)
    order = np.argsort(users_seen, kind="stable")
    offsets = np.r_[0, np.cumsum(np.bincount(users_seen, minlength=data.num_users))]
    labels = (
        catalogue[data.display_key]
        if data.display_key and data.display_key in catalogue
        else np.full(data.num_items, "", dtype=object)
    )
    return ServingData(
        model.query_id_feature,
        users,
        data.item_ids[items_seen[order]],
        offsets,
        data.item_ids,
        labels,
    )


def experiment_optimizer(config: ExperimentConfig, num_rows: int) -> tf.keras.optimizers.Optimizer:
    """The optimizer `train_and_evaluate` trains with: `config.optimizer` at
    `config.learning_rate`, averaging the weights with `config.ema_momentum` over the run's
    steps (`num_rows` training rows in batches of `config.batch_size` for `config.epochs`)."""
    return build_optimizer(
        config.optimizer,
        config.learning_rate,
        ema_momentum=config.ema_momentum,
        num_steps=config.epochs * math.ceil(num_rows / config.batch_size),
    )


@dataclasses.dataclass(frozen=True, eq=False)
class TrainedModel:
    """A model fitted on some rows: the model, its Keras history and `fit`'s wall time."""

    model: MultiTaskModel
    history: dict[str, list[float]]
    seconds: float


def train_model(
    config: ExperimentConfig,
    data: ExperimentData,
    train_positions: np.ndarray,
    validation_positions: np.ndarray | None = None,
    out: Path | None = None,
    *,
    progress: bool = True,
    resume: bool = False,
    backup_every_steps: int = DEFAULT_BACKUP_EVERY_STEPS,
    callbacks: Sequence[tf.keras.callbacks.Callback] = (),
) -> TrainedModel:
    """Builds the model of `config` from the training rows only and fits it on them.

    Args:
        config: the experiment.
        data: the experiment data, its histories fitted on `train_positions`.
        train_positions: the rows trained on (vocabularies, statistics and catalogue too).
        validation_positions: rows whose losses are logged after each epoch
            (`config.validate_each_epoch`), or None.
        out: the run folder (TensorBoard, checkpoints, the training backup), or None.
        progress: Keras progress bars.
        resume: continue from the backup in `out`.
        backup_every_steps: steps between mid-epoch backups.
        callbacks: more Keras callbacks (e.g. a tuner's per-epoch validation).

    With `data.attribute_holdout`, the item attribute tasks are weighted by its 0/1 row
    weight (`attribute_holdout.with_attribute_weights`): the held-out items add no loss.
    """
    log = progress_logger(progress)
    tf.keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        # Process-wide and idempotent; kernels with several implementations (e.g. parallel
        # reductions) then always pick the reproducible one.
        tf.config.experimental.enable_op_determinism()
    model_config = config.model_config(data.frame.columns, data.num_items)
    if data.attribute_holdout is not None:
        model_config = with_attribute_weights(model_config)
    train_arrays = training_feature_arrays(data, train_positions)
    model = MultiTaskModel.from_data(model_config, train_arrays)  # vocabularies: train only
    steps_per_epoch = math.ceil(len(train_positions) / config.batch_size)
    model.compile(optimizer=experiment_optimizer(config, len(train_positions)))
    columns = _model_columns(model)
    train = build_dataset(
        select_columns(train_arrays, columns), config.batch_size, seed=config.seed
    )
    start_at = (0, 0)
    if out is not None and resume:
        start_at = saved_position(out / BACKUP_DIR, steps_per_epoch) or (0, 0)
        epoch, step = start_at
        _announce(
            f"resuming from checkpoint at epoch {epoch + 1} step {step}"
            f" ({steps_per_epoch} steps an epoch, {config.epochs} epochs)"
            if epoch < config.epochs
            else f"resuming after training ({config.epochs} epochs done): evaluating and writing"
        )
    validation = None
    if (
        config.validate_each_epoch
        and validation_positions is not None
        and len(validation_positions)
    ):
        arrays = select_columns(feature_arrays(data, validation_positions), columns)
        validation = build_dataset(arrays, config.batch_size, shuffle=False)
    verbose = (1 if sys.stderr.isatty() else 2) if progress else 0
    start = time.perf_counter()
    fitted = model.fit(
        resumable_stream(train, config.epochs, steps_per_epoch, start_at),
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        validation_data=validation,
        callbacks=[*_callbacks(out, resume, backup_every_steps, steps_per_epoch), *callbacks],
        verbose=verbose,
    )
    seconds = time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    if out is not None:  # every epoch, those trained before an interruption included
        history = full_history(out / BACKUP_DIR)
    log(f"trained in {seconds:.1f} s")
    return TrainedModel(model, history, seconds)


def fit_served_blend(
    config: ExperimentConfig,
    data: ExperimentData,
    train_positions: np.ndarray,
    *,
    progress: bool = True,
) -> BlendFit:
    """Fits the served blend on a validation carve-out of the training rows.

    A model of `config` is trained on the training rows minus the carve-out
    (`validation_carve_out`), serves each carved-out user `num_candidates` candidates
    (their other training items excluded), and `fit_blend` picks the weights that rank the
    carved-out interactions (of `resolved_blend_target`) best. Before that, where the config
    leaves the item-item part's weight to the data (`fits_item_item_weight`), the same model
    picks its served weight (`fit_item_item_weight`, on every carved-out interaction) and
    serves the candidates with it; the result carries the weight. No test row is read.
    `data`'s split state (histories, profiles) is refitted on `train_positions` before
    returning.
    """
    log = progress_logger(progress)
    fit_positions, held_out = validation_carve_out(
        data, train_positions, config.split, config.validation_fraction, config.seed
    )
    target = resolved_blend_target(config, data)
    ranked_by = "every interaction" if target is None else target
    if target is not None and target == data.rating_key:
        ranked_by = f"interactions graded by {target}"
    log(
        f"fitting the served blend: training on {len(fit_positions):,} rows, "
        f"{len(held_out):,} held out ({config.validation_fraction:.0%}; ranked by "
        f"{ranked_by})"
    )
    fit_split_state(data, fit_positions)
    item_item_weight = item_item_recency = None
    try:
        # Its losses on the carve-out after each epoch are the run's validation curves.
        trained = train_model(config, data, fit_positions, held_out, progress=progress)
        fitted = trained.model
        if config.fits_item_item_weight and fitted.item_item is not None:
            recencies = None if config.item_item_recency is None else (config.item_item_recency,)
            item_item = fit_item_item_weight(
                fitted, data, fit_positions, held_out, recency_grid=recencies
            )
            item_item_weight, item_item_recency = item_item.weight, item_item.recency
            fitted.item_item.set_weight(item_item_weight)
            fitted.item_item.set_recency(item_item_recency)
            tried = ", ".join(f"{w:g}: {n:.4f}" for w, n in item_item.ndcg.items())
            log(
                f"item-item part's served weight {item_item_weight:g} (validation NDCG@"
                f"{ITEM_ITEM_CUTOFF} of stage 1 by weight: {tried})"
            )
            if len(item_item.recency_ndcg) > 1:
                tried = ", ".join(f"{r:g}: {n:.4f}" for r, n in item_item.recency_ndcg.items())
                log(
                    f"item-item part's recency {item_item_recency:g} (best validation NDCG@"
                    f"{ITEM_ITEM_CUTOFF} by recency: {tried})"
                )
        recommender = Recommender(
            fitted,
            item_catalogue(data, fitted),
            config.index,
            progress=False,
            blend={RETRIEVAL_SCORE: 1.0},
        )
        users = user_table(data, fitted, fit_positions)
        relevant = _held_out(data, fit_positions, held_out, target)
        served_users = np.unique(relevant.user_indices)
        candidates = served_lists(
            recommender,
            data,
            users,
            served_users,
            seen_items(data, fit_positions),
            k=config.num_candidates,
            num_candidates=config.num_candidates,
            blend={RETRIEVAL_SCORE: 1.0},
        )
        found = fit_blend(candidates, relevant, fitted.probability_task_names)
        found = dataclasses.replace(
            found,
            item_item_weight=item_item_weight,
            item_item_recency=item_item_recency,
            train_seconds=trained.seconds,
            history=trained.history,
        )
        del fitted, trained, recommender
    finally:
        fit_split_state(data, train_positions)
        # The carve-out model (and its index) sit in reference cycles: free them now, before
        # the served model trains, not whenever the cycle collector next runs.
        gc.collect()
    log(
        f"served blend {format_blend(found.blend)}: validation NDCG@{found.k} "
        f"{found.ndcg:.4f} against stage 1's {found.stage_one_ndcg:.4f} "
        f"({found.num_users} users)"
    )
    return found


def _held_out(
    data: ExperimentData, fit_positions: np.ndarray, held_out: np.ndarray, target: str | None
) -> HeldOut:
    """The held-out interactions with a positive gain for `target` that are not among the
    user's fitting interactions (those are excluded from what is served)."""
    fit = UserItemSets.from_pairs(
        *data.pairs(fit_positions), num_users=data.num_users, num_items=data.num_items
    )
    users, items = data.pairs(held_out)
    gains = target_gains(data, held_out, target)
    keep = ~fit.contains(users, items[:, None])[:, 0] & (gains > 0)
    return HeldOut(users[keep], items[keep], gains[keep])


def with_data_shape(
    config: ExperimentConfig, data: ExperimentData, train_positions: np.ndarray, log: Log
) -> ExperimentConfig:
    """`config.with_data_shape` on the training rows, saying what it turned on."""
    share = seen_once_share(data, train_positions)
    resolved = config.with_data_shape(data.frame.columns, share)
    if resolved.category_input and config.category_input is None:
        log(
            f"{share:.0%} of the training interactions are with items that have no other: "
            "the candidate tower reads the item's category (category_input, item-id dropout "
            f"{resolved.resolved_item_id_dropout:g}), and no category task is trained"
        )
    return resolved


def train_and_evaluate(
    config: ExperimentConfig,
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    out: Path | None = None,
    *,
    progress: bool = True,
    resume: bool = False,
    backup_every_steps: int = DEFAULT_BACKUP_EVERY_STEPS,
    times: PhaseTimes | None = None,
) -> ExperimentResult:
    """Trains on the training rows and scores on the test rows; writes `out` when given.

    With ranking tasks and no `config.blend`, the served blend is first fitted on a
    validation carve-out of the training rows (`fit_served_blend`). With `out`, training is
    backed up in `out/.backup` (see the module docstring); `resume` continues from that
    backup instead of starting over. `times` holds the phases timed before (loading); the
    run adds its own, logs them and reports them as `seconds/<phase>`.
    """
    log = progress_logger(progress)
    times = times or PhaseTimes()
    # The config as given stays the run's (experiment.yaml); the run trains what it resolves to.
    given = config
    config = with_data_shape(config, data, train_positions, log)
    model_config = config.model_config(data.frame.columns, data.num_items)
    trained = {task.name for task in model_config.tasks}
    dropped = [name for name in config.task_names if name not in trained]
    if dropped:
        log(f"{config.dataset} has no labels for task(s) {dropped}: trained without them")
    # On by default for a catalogue of unknown size, off at this one.
    if config.item_item_weight_for(None) and not model_config.item_item_weight:
        log(
            f"item-item part off: {data.num_items:,} items is above "
            f"{MAX_ITEM_ITEM_ITEMS:,} (it is dense in the items; --item-item-weight "
            "turns it on)"
        )
    if config.retrieval_negatives_for(data.num_items) != config.retrieval_negatives_for(None):
        log(
            f"retrieval negatives: in-batch with the logQ correction, as {data.num_items:,} "
            f"items is above {MAX_FULL_CATALOGUE_ITEMS:,} for a full softmax at every step "
            "(--retrieval-negatives full_catalogue asks for it anyway)"
        )
    blend_fit = None
    blend = config.blend
    # The config as given stays the run's (experiment.yaml); a fitted item-item weight is the
    # served model's, reported in metrics.json and saved with the model.
    served_config = config
    if blend is None and model_config.ranking_tasks and config.validation_fraction > 0:
        saved = out / BACKUP_DIR / BLEND_FIT_FILE if out is not None else None
        if resume and saved is not None and saved.is_file():
            blend_fit = BlendFit(**json.loads(saved.read_text(encoding="utf-8")))
            log(f"served blend {format_blend(blend_fit.blend)} (fitted before the interruption)")
        else:
            with times.phase("blend_fit"):
                blend_fit = fit_served_blend(config, data, train_positions, progress=progress)
            if saved is not None:
                files.write_json_atomically(saved, dataclasses.asdict(blend_fit))
        blend = blend_fit.blend
        if blend_fit.item_item_weight is not None:
            served_config = config.replace(
                item_item_weight=blend_fit.item_item_weight,
                item_item_recency=blend_fit.item_item_recency,
            )
    log(f"{len(train_positions):,} training rows, {len(test_positions):,} test rows")
    with times.phase("train"):
        training = train_model(
            served_config,
            data,
            train_positions,
            None,  # no test row is read before evaluation: the curves are the carve-out's
            out,
            progress=progress,
            resume=resume,
            backup_every_steps=backup_every_steps,
        )
    model = training.model
    model.default_blend = blend
    log(f"building the {config.index.kind} index")
    with times.phase("index"):
        catalogue = item_catalogue(data, model)
        users = user_table(data, model, train_positions)
        recommender = Recommender(model, catalogue, config.index, progress=False)
        if config.index_target_recall is not None:
            tuning = recommender.tune_index(
                users, target_recall=config.index_target_recall, progress=progress
            )
            log(f"tuned index: {tuning.best.to_dict()}")
            recommender = Recommender(model, catalogue, tuning.best, progress=False)
    log("evaluating (what recommend serves, and the full ranking; training items masked)")
    with times.phase("evaluate"):
        evaluation = evaluate_model(
            model,
            recommender,
            data,
            train_positions,
            test_positions,
            users,
            config.ks,
            num_candidates=config.num_candidates,
        )
    if blend_fit is not None:
        evaluation.metrics["blend_fit"] = {
            f"validation_ndcg@{blend_fit.k}": blend_fit.ndcg,
            f"validation_stage_one_ndcg@{blend_fit.k}": blend_fit.stage_one_ndcg,
        }
        if blend_fit.item_item_weight is not None:
            evaluation.metrics["blend_fit"]["item_item_weight"] = blend_fit.item_item_weight
        if blend_fit.item_item_recency is not None:
            evaluation.metrics["blend_fit"]["item_item_recency"] = blend_fit.item_item_recency
        if blend_fit.train_seconds is not None:
            evaluation.metrics["blend_fit"]["train_seconds"] = blend_fit.train_seconds
    with times.phase("baselines"):
        baselines = run_baselines(config, data, train_positions, test_positions, log)
        if "attribute_single_task" in config.baseline_names and data.attribute_holdout is not None:
            alone = single_task_config(config, model.config)
            if alone is not None:
                log(f"baseline: attribute_single_task ({', '.join(alone.tasks)} alone)")
                single = train_model(alone, data, train_positions, progress=progress).model
                baselines.metrics["attribute_single_task"] = heldout_model_metrics(
                    single, item_catalogue(data, single), data.attribute_holdout
                )
    evaluation.metrics["seconds"] = dict(times.seconds)
    metrics = flatten_metrics(
        evaluation.metrics, baselines=baselines.metrics, train_seconds=training.seconds
    )
    serving = serving_data_of(data, model, users, catalogue, train_positions)
    result = ExperimentResult(
        config=given,
        metrics=metrics,
        nested_metrics=evaluation.metrics,
        baselines=baselines,
        history=run_history(training.history, blend_fit),
        train_seconds=training.seconds,
        model=model,
        recommender=recommender,
        serving_data=serving,
        catalogue=catalogue,
        out_dir=out,
        interest_classes=data.interest_classes if "interest" in trained else None,
    )
    if out is not None:
        _write_run(result, evaluation.recall_curve, log, times)
        result.metrics.update({f"seconds/{k}": v for k, v in times.seconds.items()})
    log(f"phases: {times.summary()}")
    return result


def _write_run(
    result: ExperimentResult, recall_curve: np.ndarray, log: Log, times: PhaseTimes
) -> None:
    out = result.out_dir
    assert out is not None
    log(f"writing the model, the export and the report to {out}")
    with times.phase("export"):
        files.write_text_atomically(out / files.EXPERIMENT_FILE, experiment_yaml(result.config))
        files.write_folder_atomically(out / files.MODEL_DIR, result.model.save_model)
        result.serving_data.save(out / SERVING_DATA_FILE)
        save_catalogue(result, out / CATALOGUE_FILE)
        export = save_export(result.recommender, out / files.EXPORT_DIR, overwrite=True)
        result.serving_data.save(export / SERVING_DATA_FILE)
    # metrics.json (written last, below) records the export too.
    result.nested_metrics["seconds"] = dict(times.seconds)
    files.write_json_atomically(out / files.HISTORY_FILE, files.history_content(result.history))
    files.write_text_atomically(out / HISTORY_CSV, history_csv(result.history))
    write_run_report(
        out,
        result.nested_metrics,
        result.baselines,
        recall_curve,
        history=result.history,
        train_seconds=result.train_seconds,
        title=f"tfrs_mtl experiment: {result.config.dataset}",
        notes=_run_notes(result),
    )


def run_history(
    served: dict[str, list[float]], blend_fit: BlendFit | None
) -> dict[str, list[float]]:
    """The served model's history beside the `val_*` series of the blend fit's carve-out
    model (its losses on the carve-out after each epoch, `validate_each_epoch`).

    The served model trains on every training row, so no row is left to validate it on, and
    no test row is read before evaluation; the carve-out model has its config and epochs
    and never trained on the carve-out, so its curves show where the served model's
    training starts to overfit. Without a blend fit there are no validation curves.
    """
    carve_out = blend_fit.history if blend_fit is not None and blend_fit.history else {}
    return {**served, **{key: v for key, v in carve_out.items() if key.startswith("val_")}}


def history_csv(history: dict[str, list[float]]) -> str:
    """`history.csv`: one row per epoch (0-based `epoch`, as Keras' `CSVLogger` writes it)."""
    keys = sorted(history)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    for epoch in range(max((len(values) for values in history.values()), default=0)):
        writer.writerow([epoch, *(history[key][epoch] for key in keys)])
    return text.getvalue()


def _announce(message: str) -> None:
    """A line on stderr that even a quiet run prints (a resume changes what the run does)."""
    print(f"[tfrs-mtl] {message}", file=sys.stderr, flush=True)


def save_catalogue(result: ExperimentResult, path: Path) -> None:
    """The served items' candidate features as a `Catalogue` (`.npz`, no pickles)."""
    model = result.model
    num_items = result.recommender.num_items
    uniform = np.full(num_items, 1.0 / max(1, num_items), np.float32)
    temporary = path.with_name(f".{path.name}.{time.time_ns()}.tmp")
    try:
        Catalogue(result.catalogue, model.candidate_id_feature, uniform).save(temporary)
        temporary.replace(path)
    finally:
        temporary.unlink(missing_ok=True)


def _run_notes(result: ExperimentResult) -> str:
    config = result.config
    lines = [
        "## Run",
        "",
        f"- dataset: {config.dataset}; split: {config.split.method}; "
        f"tasks: {', '.join(task.name for task in result.model.config.tasks)}",
        f"- architecture: {result.model.config.architecture}; weighting: {config.weighting}; "
        f"epochs: {config.epochs}; batch size: {config.batch_size}; "
        f"learning rate: {config.learning_rate}",
        f"- index: {result.recommender.num_items} items, built as "
        f"`{result.recommender.index.config.to_dict()}`"
        + (" (tuned)" if config.index_target_recall is not None else "")
        + "; `index/*` metrics are what the served index returns, `retrieval/*` the exact "
        "full ranking (training items masked in both)",
        f"- baselines: {', '.join(result.baselines.names) or 'none'}",
        "- validation curves: "
        + (
            "the losses, after each epoch, on the carve-out of the training rows the served "
            "blend was fitted on, of the model trained without it"
            if any(key.startswith("val_") for key in result.history)
            else "none (no blend fitted on a carve-out, or validate_each_epoch off)"
        )
        + "; no test row is read before evaluation",
        "",
        "## Experiment config",
        "",
        "```yaml",
        experiment_yaml(config).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def interrupted_run(out_dir: str | Path, config: ExperimentConfig) -> bool:
    """Whether `out_dir` holds an interrupted run of `config` (one to resume).

    Raises:
        FileExistsError: it holds an interrupted run of another config.
    """
    recorded = Path(out_dir) / BACKUP_DIR / files.EXPERIMENT_FILE
    if not recorded.is_file():
        return False
    if recorded.read_text(encoding="utf-8") != experiment_yaml(config):
        raise FileExistsError(
            f"{out_dir} holds an incomplete run, an interrupted run of another experiment (see "
            f"{recorded}); rerun it with the same options to resume, or pass --overwrite to "
            "start over"
        )
    return True


def remove_training_folders(out: Path) -> None:
    """After a failed run: its training folders go (nothing to resume from)."""
    for name in TRAINING_FOLDERS:
        shutil.rmtree(out / name, ignore_errors=True)


#: Write failures a run can resume from once the disk or folder is fixed.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO}
)


def _is_storage_error(error: BaseException) -> bool:
    """A write that failed for want of space or permission (Python's or TensorFlow's)."""
    if isinstance(error, OSError):
        return error.errno in STORAGE_ERRNOS
    tensorflow_errors = (
        tf.errors.ResourceExhaustedError,
        tf.errors.PermissionDeniedError,
        tf.errors.DataLossError,
    )
    return isinstance(error, tensorflow_errors)


def _storage_failure(out: Path, error: BaseException) -> IncompleteRunError:
    reason = os_error_text(error) if isinstance(error, OSError) else tensorflow_error_text(error)
    return IncompleteRunError(
        f"cannot write the run folder {out} ({reason}); it is marked incomplete: free space "
        "or fix the folder's permissions, then rerun the same command to resume, or pass "
        "--overwrite to start over"
    )


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path | None,
    *,
    progress: bool = True,
    overwrite: bool = False,
    backup_every_steps: int = DEFAULT_BACKUP_EVERY_STEPS,
) -> ExperimentResult:
    """Runs the experiment end to end and writes the run folder (see the module docstring).

    The run holds `OUT/.lock` (`run_lock.output_lock`) from start to end, and `OUT` is
    marked `INCOMPLETE` from its first write until `metrics.json` is in place.

    Args:
        config: the experiment.
        out_dir: the run folder; None keeps everything in memory. An interrupted run of the
            same config in it is resumed; an incomplete run with nothing to resume is
            started over.
        progress: progress bars and log lines on stderr.
        overwrite: allow a non-empty `out_dir` (its files are replaced; an interrupted run in
            it is started over).
        backup_every_steps: training steps between mid-epoch backups of the training state.

    Returns:
        An `ExperimentResult`.

    Raises:
        FileExistsError: `out_dir` is a file, or not empty and neither `overwrite` nor an
            interrupted run of `config`, or another process is writing it
            (`run_lock.OutputInUseError`, naming the process).
        IncompleteRunError: a write failed for want of space or permission; the folder is
            left marked incomplete with its training backup, to resume.
        TrainingDivergedError: a loss became NaN or infinite.

    Example:
        >>> result = run_experiment(ExperimentConfig(epochs=1), "runs/ml100k")  # doctest: +SKIP
        >>> result.metrics["retrieval/recall@10"]  # doctest: +SKIP
    """
    log = progress_logger(progress)
    if out_dir is None:
        log(f"loading {config.dataset}")
        times = PhaseTimes()
        with times.phase("load"):
            data = load_experiment_data(config)
            train_positions, test_positions = split_experiment_data(data, config.split)
        return train_and_evaluate(
            config, data, train_positions, test_positions, None, progress=progress, times=times
        )
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        kind = "a file" if out.is_file() else path_kind(out)
        raise FileExistsError(f"{out} is {kind}; --out must be a folder")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(
            error.errno, f"cannot create the run folder {out}: {error.strerror}"
        ) from None
    try:
        with output_lock(out / LOCK_FILE, f"--out {out}"):
            return _run_in_folder(config, out, log, overwrite, backup_every_steps, progress)
    finally:
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # bad input or a refused run leaves no empty folder behind


def _run_in_folder(
    config: ExperimentConfig,
    out: Path,
    log: Log,
    overwrite: bool,
    backup_every_steps: int,
    progress: bool,
) -> ExperimentResult:
    """`run_experiment` into `out`, whose lock the caller holds."""
    state = files.run_folder_state(out)
    resume = state == "interrupted" and not overwrite and interrupted_run(out, config)
    if state in ("complete", "foreign"):
        files.prepare_out_dir(out, overwrite=overwrite, create=False)
    elif state == "incomplete" and not overwrite:
        _announce(f"{out} holds an incomplete run with nothing to resume: starting it over")
    log(f"loading {config.dataset}")
    times = PhaseTimes()
    with times.phase("load"):
        data = load_experiment_data(config)
        train_positions, test_positions = split_experiment_data(data, config.split)
    refuse_links_inside(out)  # never write through a link inside the run folder
    # Only now, once the input is known good: from here the folder is a run in progress.
    files.mark_incomplete(out)
    if not resume:
        (out / files.METRICS_FILE).unlink(missing_ok=True)  # a previous run's, overwritten
        shutil.rmtree(out / BACKUP_DIR, ignore_errors=True)  # an interrupted run, overwritten
        (out / BACKUP_DIR).mkdir()
        files.write_text_atomically(
            out / BACKUP_DIR / files.EXPERIMENT_FILE, experiment_yaml(config)
        )
    try:
        result = train_and_evaluate(
            config,
            data,
            train_positions,
            test_positions,
            out,
            progress=progress,
            resume=resume,
            backup_every_steps=backup_every_steps,
            times=times,
        )
    except Exception as error:
        if _is_storage_error(error):  # keep the backup: the same command resumes
            raise _storage_failure(out, error) from error
        remove_training_folders(out)
        if files.run_folder_state(out) == "incomplete" and {
            path.name for path in out.iterdir()
        } <= {files.INCOMPLETE_FILE, LOCK_FILE}:
            files.mark_complete(out)  # nothing was written: nothing is incomplete
        raise
    shutil.rmtree(out / BACKUP_DIR)  # the run is complete: nothing to resume
    files.mark_complete(out)
    return result
