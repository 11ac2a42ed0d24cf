"""One training process of tests/test_multi_worker.py (run as a script, not collected).

With `TF_CONFIG` set it is one worker of a `MultiWorkerMirroredStrategy` cluster; without it,
the single-process reference. Either way it trains the same toy MovieLens-shaped model on the
same data with SGD, once per variant of `VARIANTS` (one strategy, two trainings), and writes
`<out>/<name>-<variant>.npz` (every trainable variable, in order) and `.json` (history, chief
flag, replicas in sync). `--model-dir` is passed to `train_distributed(out_dir=...)` for the
first variant; only the chief writes it.

    python tests/multi_worker_job.py --out DIR --name reference --global-batch-size 32
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

import tfrs_mtl  # noqa: F401  (sets TF_USE_LEGACY_KERAS before tf.keras is first touched)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_multitask_model import movielens_arrays

from tfrs_mtl.models import movielens_config
from tfrs_mtl.models.distributed_training import train_distributed

# In-batch softmax (all-gathered negatives, accidental-hit removal) with fixed weights; the
# full-catalogue softmax with uncertainty weighting (trainable log-variances).
VARIANTS: dict[str, dict[str, Any]] = {
    "in_batch": {"weighting": "fixed"},
    "full_catalogue": {"weighting": "uncertainty", "use_full_catalogue": True},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--model-dir", type=Path)
    parser.add_argument("--global-batch-size", type=int, default=32)
    parser.add_argument("--num-examples", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()

    if "TF_CONFIG" in os.environ:
        # Ring all-reduce: the collective implementation that runs on CPU-only hosts.
        strategy: tf.distribute.Strategy = tf.distribute.MultiWorkerMirroredStrategy(
            communication_options=tf.distribute.experimental.CommunicationOptions(
                implementation=tf.distribute.experimental.CommunicationImplementation.RING
            )
        )
    else:
        strategy = tf.distribute.get_strategy()
    for number, (variant, options) in enumerate(VARIANTS.items()):
        result = train_distributed(
            movielens_config(embedding_dim=8, **options),
            movielens_arrays(num_examples=args.num_examples, seed=7),
            strategy,
            global_batch_size=args.global_batch_size,
            epochs=args.epochs,
            optimizer=lambda: tf.keras.optimizers.SGD(0.1),
            seed=3,
            out_dir=args.model_dir if number == 0 else None,
        )
        weights = {f"{i:03d}": v.numpy() for i, v in enumerate(result.model.trainable_variables)}
        np.savez(args.out / f"{args.name}-{variant}.npz", **weights)
        summary = {
            "history": result.history,
            "is_chief": result.is_chief,
            "num_replicas": strategy.num_replicas_in_sync,
            "steps_per_epoch": result.steps_per_epoch,
        }
        (args.out / f"{args.name}-{variant}.json").write_text(json.dumps(summary))


if __name__ == "__main__":
    main()
