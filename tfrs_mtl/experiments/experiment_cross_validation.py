"""`cross_validate_experiment`: the experiment on every fold, each metric's mean and std.

Folds are seeded k-fold splits of the data (`folds=5`) or the official ml-100k files
(`folds="u1-u5"`). Every fold fits its own vocabularies, model and index (rebuilt from that
fold's embeddings) and scores its own baselines; `tfrs_mtl.evaluation.cross_validate`
summarises them (population standard deviation).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from tfrs_mtl.data.canonical_folds import CANONICAL_FOLDS
from tfrs_mtl.data.split_config import MAX_FOLDS, SplitConfig
from tfrs_mtl.evaluation import cross_validate
from tfrs_mtl.experiments import run_outputs as files
from tfrs_mtl.experiments.experiment_config import ExperimentConfig
from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
from tfrs_mtl.experiments.experiment_run import progress_logger, train_and_evaluate
from tfrs_mtl.experiments.run_lock import LOCK_FILE, output_lock

CV_FILE = "cv.json"


@dataclasses.dataclass(frozen=True)
class CrossValidationResult:
    """Attributes:
    summary: metric -> (mean, std) across folds.
    per_fold: each fold's flat metrics, in fold order.
    folds: the fold splits.
    """

    summary: dict[str, tuple[float, float]]
    per_fold: list[dict[str, float]]
    folds: list[SplitConfig]


def fold_splits(folds: int | str, seed: int = 42) -> list[SplitConfig]:
    """The splits of `folds`: an int k from 2 to `MAX_FOLDS` (seeded k-fold), or canonical
    files such as `"u1-u5"`, `"u1,u3"` or `"ua,ub"`.

    Raises:
        ValueError: naming the accepted forms.
    """
    if isinstance(folds, int) or (isinstance(folds, str) and folds.strip().isdigit()):
        text = str(folds).strip()
        if len(text) > 3 or not 2 <= int(text) <= MAX_FOLDS:
            raise ValueError(f"folds={folds}: a k-fold split needs k >= 2 and at most {MAX_FOLDS}")
        count = int(text)
        return [
            SplitConfig(method="kfold", num_folds=count, fold_index=i, seed=seed)
            for i in range(count)
        ]
    text = str(folds).strip()
    match = re.fullmatch(r"u([1-5])-u([1-5])", text)
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        names = [f"u{i}" for i in range(first, last + 1)]
    else:
        names = [part.strip() for part in text.split(",") if part.strip()]
    if len(set(names)) < len(names):
        raise ValueError(f"folds={folds!r} names a fold twice; each fold is tested once")
    if len(names) < 2 or any(name not in CANONICAL_FOLDS for name in names):
        raise ValueError(
            f"folds={folds!r}: expected an integer k >= 2, a range such as 'u1-u5', or a "
            f"comma-separated list of at least two of {list(CANONICAL_FOLDS)}"
        )
    return [SplitConfig(method="canonical", canonical_fold=name) for name in names]


def cross_validate_experiment(
    config: ExperimentConfig,
    folds: int | str = 5,
    out_dir: str | Path | None = None,
    *,
    progress: bool = True,
) -> CrossValidationResult:
    """Runs `config` on every fold (index rebuilt per fold) and summarises each metric.

    Args:
        config: the experiment (its `split` is replaced by each fold's).
        folds: see `fold_splits`.
        out_dir: when given, `cv.json` (summary and per-fold metrics) is written there.
        progress: progress bars and log lines on stderr.

    Returns:
        A `CrossValidationResult`.
    """
    splits = fold_splits(folds, config.seed)
    if out_dir is None:
        return _cross_validate(config, splits, progress)
    folder = Path(out_dir)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OSError(error.errno, f"cannot create {folder}: {error.strerror}") from None
    try:
        # The lock also shows, before any training, that cv.json can be written there.
        with output_lock(folder / LOCK_FILE, f"--out {folder}"):
            result = _cross_validate(config, splits, progress)
            files.write_json_atomically(
                folder / CV_FILE,
                {
                    "folds": [_fold_name(split) for split in splits],
                    "mean": {name: mean for name, (mean, _) in result.summary.items()},
                    "std": {name: std for name, (_, std) in result.summary.items()},
                    "per_fold": result.per_fold,
                    "experiment": config.to_dict(),
                },
            )
    finally:
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return result


def _cross_validate(
    config: ExperimentConfig, splits: list[SplitConfig], progress: bool
) -> CrossValidationResult:
    log = progress_logger(progress)
    if splits[0].method == "canonical":
        config.replace(split=splits[0])  # validates: canonical folds need ml-100k, no sample
    log(f"loading {config.dataset}")
    data = load_experiment_data(config)
    per_fold: list[dict[str, float]] = []

    def run_fold(split: SplitConfig) -> dict[str, float]:
        log(f"fold {len(per_fold) + 1} of {len(splits)}: {_fold_name(split)}")
        fold_config = config.replace(split=split)
        train, test = split_experiment_data(data, split)
        result = train_and_evaluate(fold_config, data, train, test, None, progress=progress)
        per_fold.append(result.metrics)
        return result.metrics

    summary = cross_validate(run_fold, splits)
    return CrossValidationResult(summary, per_fold, splits)


def _fold_name(split: SplitConfig) -> str:
    if split.method == "canonical":
        return split.canonical_fold
    return f"kfold {split.fold_index + 1}/{split.num_folds}"
