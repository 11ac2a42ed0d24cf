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
    history.json         per-epoch losses, task weights and metrics; history.csv as CSV
    report.md            tables and plots (loss_curves.png, task_weights.png, recall_at_k.png)
    tensorboard/         TensorBoard logs
    checkpoints/         weights after every epoch (ModelCheckpoint)
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import tensorflow as tf

from tfrs_mtl.evaluation.metrics_schema import flatten_metrics
from tfrs_mtl.experiments import run_outputs as files
from tfrs_mtl.experiments.experiment_baselines import BaselineEvaluation, run_baselines
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import (
    ExperimentData,
    feature_arrays,
    load_experiment_data,
    select_columns,
    split_experiment_data,
)
from tfrs_mtl.experiments.model_evaluation import evaluate_model, item_catalogue, user_table
from tfrs_mtl.experiments.run_report import experiment_yaml, write_run_report
from tfrs_mtl.experiments.serving_data import FILE_NAME as SERVING_DATA_FILE
from tfrs_mtl.experiments.serving_data import ServingData
from tfrs_mtl.models import Catalogue, MultiTaskModel, build_dataset
from tfrs_mtl.serving import Recommender
from tfrs_mtl.serving import save as save_export

Log = Callable[[str], None]
CATALOGUE_FILE = "item_catalogue.npz"


@dataclasses.dataclass(frozen=True, eq=False)
class ExperimentResult:
    """What a run produced.

    Attributes:
        config: the experiment.
        metrics: the flat `metrics.json` content.
        nested_metrics: the model's `{task: {metric: value}}`.
        baselines: the baselines' metrics and curves.
        history: Keras `History.history`.
        train_seconds: wall time of `fit`.
        model: the trained model.
        recommender: the in-process two-stage recommender.
        serving_data: known users' query features, seen items, item labels.
        catalogue: candidate features of every served item, in item-index order.
        out_dir: the run folder (None when nothing was written).
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


def _callbacks(out: Path | None) -> list[tf.keras.callbacks.Callback]:
    if out is None:
        return []
    for name in (files.TENSORBOARD_DIR, files.CHECKPOINT_DIR):
        shutil.rmtree(out / name, ignore_errors=True)  # a previous run's, when overwriting
    (out / files.CHECKPOINT_DIR).mkdir()
    return [
        tf.keras.callbacks.TensorBoard(
            log_dir=str(out / files.TENSORBOARD_DIR), write_graph=False, profile_batch=0
        ),
        tf.keras.callbacks.ModelCheckpoint(
            str(out / files.CHECKPOINT_DIR / "epoch-{epoch:03d}"),
            save_weights_only=True,
            save_freq="epoch",
        ),
        tf.keras.callbacks.CSVLogger(str(out / "history.csv")),
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


def train_and_evaluate(
    config: ExperimentConfig,
    data: ExperimentData,
    train_positions: np.ndarray,
    test_positions: np.ndarray,
    out: Path | None = None,
    *,
    progress: bool = True,
) -> ExperimentResult:
    """Trains on the training rows and scores on the test rows; writes `out` when given."""
    log = progress_logger(progress)
    tf.keras.utils.set_random_seed(config.seed)
    if config.deterministic:
        # Process-wide and idempotent; kernels with several implementations (e.g. parallel
        # reductions) then always pick the reproducible one.
        tf.config.experimental.enable_op_determinism()
    model_config = config.model_config(data.frame.columns)
    trained = {task.name for task in model_config.tasks}
    dropped = [name for name in config.task_names if name not in trained]
    if dropped:
        log(f"{config.dataset} has no labels for task(s) {dropped}: trained without them")
    train_arrays = feature_arrays(data, train_positions)
    log(f"{len(train_positions):,} training rows, {len(test_positions):,} test rows")
    model = MultiTaskModel.from_data(model_config, train_arrays)  # vocabularies: train only
    optimizers = {"adam": tf.keras.optimizers.Adam, "adagrad": tf.keras.optimizers.Adagrad}
    model.compile(optimizer=optimizers[config.optimizer](config.learning_rate))
    columns = _model_columns(model)
    train = build_dataset(
        select_columns(train_arrays, columns), config.batch_size, seed=config.seed
    )
    validation = None
    if config.validate_each_epoch and len(test_positions):
        test_arrays = select_columns(feature_arrays(data, test_positions), columns)
        validation = build_dataset(test_arrays, config.batch_size, shuffle=False)
    verbose = (1 if sys.stderr.isatty() else 2) if progress else 0
    start = time.perf_counter()
    fitted = model.fit(
        train,
        epochs=config.epochs,
        validation_data=validation,
        callbacks=_callbacks(out),
        verbose=verbose,
    )
    train_seconds = time.perf_counter() - start
    history = {key: [float(v) for v in values] for key, values in fitted.history.items()}
    log(f"trained in {train_seconds:.1f} s; building the {config.index.kind} index")
    catalogue = item_catalogue(data, model)
    users = user_table(data, model, train_positions)
    recommender = Recommender(model, catalogue, config.index, progress=False)
    if config.index_target_recall is not None:
        tuning = recommender.tune_index(
            users, target_recall=config.index_target_recall, progress=progress
        )
        log(f"tuned index: {tuning.best.to_dict()}")
        recommender = Recommender(model, catalogue, tuning.best, progress=False)
    log("evaluating (full ranking, training items masked)")
    evaluation = evaluate_model(
        model, recommender, data, train_positions, test_positions, users, config.ks
    )
    baselines = run_baselines(config, data, train_positions, test_positions, log)
    metrics = flatten_metrics(
        evaluation.metrics, baselines=baselines.metrics, train_seconds=train_seconds
    )
    serving = serving_data_of(data, model, users, catalogue, train_positions)
    result = ExperimentResult(
        config=config,
        metrics=metrics,
        nested_metrics=evaluation.metrics,
        baselines=baselines,
        history=history,
        train_seconds=train_seconds,
        model=model,
        recommender=recommender,
        serving_data=serving,
        catalogue=catalogue,
        out_dir=out,
    )
    if out is not None:
        _write_run(result, evaluation.recall_curve, log)
    return result


def _write_run(result: ExperimentResult, recall_curve: np.ndarray, log: Log) -> None:
    out = result.out_dir
    assert out is not None
    log(f"writing the model, the export and the report to {out}")
    files.write_text_atomically(out / files.EXPERIMENT_FILE, experiment_yaml(result.config))
    files.write_folder_atomically(out / files.MODEL_DIR, result.model.save_model)
    result.serving_data.save(out / SERVING_DATA_FILE)
    save_catalogue(result, out / CATALOGUE_FILE)
    export = save_export(result.recommender, out / files.EXPORT_DIR, overwrite=True)
    result.serving_data.save(export / SERVING_DATA_FILE)
    files.write_json_atomically(out / files.HISTORY_FILE, files.history_content(result.history))
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
        f"tasks: {', '.join(config.task_names)}",
        f"- architecture: {result.model.config.architecture}; weighting: {config.weighting}; "
        f"epochs: {config.epochs}; batch size: {config.batch_size}; "
        f"learning rate: {config.learning_rate}",
        f"- index: {result.recommender.num_items} items, built as "
        f"`{result.recommender.index.config.to_dict()}`"
        + (" (tuned)" if config.index_target_recall is not None else "")
        + "; `index/*` metrics are what the served index returns, `retrieval/*` the exact "
        "full ranking (training items masked in both)",
        f"- baselines: {', '.join(config.baselines) or 'none'}",
        "- per-epoch validation curves use the test split for monitoring only; nothing is "
        "selected on them",
        "",
        "## Experiment config",
        "",
        "```yaml",
        experiment_yaml(config).rstrip(),
        "```",
        "",
    ]
    return "\n".join(lines)


def run_experiment(
    config: ExperimentConfig,
    out_dir: str | Path | None,
    *,
    progress: bool = True,
    overwrite: bool = False,
) -> ExperimentResult:
    """Runs the experiment end to end and writes the run folder (see the module docstring).

    Args:
        config: the experiment.
        out_dir: the run folder; None keeps everything in memory.
        progress: progress bars and log lines on stderr.
        overwrite: allow a non-empty `out_dir` (its files are replaced).

    Returns:
        An `ExperimentResult`.

    Example:
        >>> result = run_experiment(ExperimentConfig(epochs=1), "runs/ml100k")  # doctest: +SKIP
        >>> result.metrics["retrieval/recall@10"]  # doctest: +SKIP
    """
    out = None
    if out_dir is not None:
        out = files.prepare_out_dir(out_dir, overwrite=overwrite, create=False)
    log = progress_logger(progress)
    log(f"loading {config.dataset}")
    data = load_experiment_data(config)
    train_positions, test_positions = split_experiment_data(data, config.split)
    if out is not None:  # only now: bad input must not leave an empty folder behind
        out.mkdir(parents=True, exist_ok=True)
    return train_and_evaluate(config, data, train_positions, test_positions, out, progress=progress)
