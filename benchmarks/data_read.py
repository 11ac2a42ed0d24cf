"""Benchmark: reading and validating MovieLens files.

Two workloads, one command, fixed seed:

1. Real ml-100k (`$TFRS_MTL_DATA_DIR/ml-100k` or `--data-dir`), folder and zip: the whole
   `load_movielens` (u.item, u.user, u.data, join, frame). Target: < 2 s.
2. A synthetic ml-latest release (`ratings.csv` with `--num-rows` rows, 10 million by default,
   and a 62,423-movie `movies.csv`) written to a temporary folder: the rating file's
   parse + validation alone (target: >= 2 million rows/s), and the whole `load_movielens`.
   Baseline in the same process: `pandas.read_csv(engine="pyarrow")` of the same file, which
   parses without validating anything.

Run:
    TFRS_MTL_DATA_DIR=../shared/data .venv/bin/python benchmarks/data_read.py

Writes `benchmarks/results/data_read.json` and `.md`, and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

import tfrs_mtl
from tfrs_mtl.data import load_movielens
from tfrs_mtl.data.rating_file import LAYOUT_CSV, read_rating_file

RESULTS = Path(__file__).resolve().parent / "results"
NUM_MOVIES = 62_423  # as ml-25m
NUM_USERS = 162_541


def _time(function: Callable[[], Any], repeats: int) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        seconds.append(time.perf_counter() - start)
    return seconds, result


def write_synthetic_release(folder: Path, num_rows: int, seed: int) -> None:
    """Writes `movies.csv` and a `ratings.csv` of `num_rows` rows in the ml-latest format."""
    rng = np.random.default_rng(seed)
    genres = ["Drama", "Comedy|Romance", "Action|Sci-Fi|IMAX", "(no genres listed)"]
    movie_ids = np.sort(rng.choice(200_000, NUM_MOVIES, replace=False) + 1)
    movies = pa.table(
        {
            "movieId": movie_ids,
            "title": pa.array([f"Movie {i} ({1900 + i % 120})" for i in movie_ids]),
            "genres": pa.array([genres[i % len(genres)] for i in range(NUM_MOVIES)]),
        }
    )
    _write_csv(movies, folder / "movies.csv")
    stars = pa.array([f"{value / 2:.1f}" for value in range(1, 11)])  # "0.5" .. "5.0"
    ratings = pa.table(
        {
            "userId": np.sort(rng.integers(1, NUM_USERS + 1, num_rows)),
            "movieId": movie_ids[rng.zipf(1.3, num_rows) % NUM_MOVIES],
            "rating": stars.take(pa.array(rng.integers(0, 10, num_rows))),
            "timestamp": rng.integers(789_652_009, 1_574_327_703, num_rows),
        }
    )
    _write_csv(ratings, folder / "ratings.csv")


def _write_csv(table: pa.Table, path: Path) -> None:
    # pyarrow quotes header names; MovieLens headers are bare.
    with path.open("wb") as file:
        file.write((",".join(table.column_names) + "\n").encode())
        options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
        pa_csv.write_csv(table, file, options)


def run(data_dir: Path, num_rows: int, repeats: int, seed: int) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []

    def record(workload: str, num: int, seconds: list[float], target: str) -> None:
        best = min(seconds)
        rows.append(
            {
                "workload": workload,
                "rows": num,
                "median_s": statistics.median(seconds),
                "best_s": best,
                "rows_per_s": num / best,
                "target": target,
            }
        )

    ml100k = data_dir / "ml-100k"
    seconds, data = _time(lambda: load_movielens("movielens-100k", ml100k), repeats)
    record("ml-100k load_movielens (folder)", len(data.ratings), seconds, "< 2 s")
    with tempfile.TemporaryDirectory() as temporary:
        archive = Path(temporary) / "ml-100k.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for name in ("u.data", "u.item", "u.user"):
                zipped.write(ml100k / name, f"ml-100k/{name}")
        seconds, data = _time(lambda: load_movielens("movielens-100k", archive), repeats)
        record("ml-100k load_movielens (zip)", len(data.ratings), seconds, "< 2 s")

        folder = Path(temporary) / "ml-latest"
        folder.mkdir()
        start = time.perf_counter()
        write_synthetic_release(folder, num_rows, seed)
        write_seconds = time.perf_counter() - start
        ratings_path = folder / "ratings.csv"
        size_mb = ratings_path.stat().st_size / 1e6

        def parse_and_validate() -> int:
            return len(
                read_rating_file(ratings_path.read_bytes(), "ratings.csv", LAYOUT_CSV).rating
            )

        seconds, count = _time(parse_and_validate, repeats)
        record("synthetic ratings.csv parse+validate", count, seconds, ">= 2M rows/s")
        seconds, count = _time(lambda: len(pd.read_csv(ratings_path, engine="pyarrow")), repeats)
        record("baseline pandas.read_csv(engine='pyarrow'), no checks", count, seconds, "-")
        seconds, data = _time(
            lambda: load_movielens("movielens-latest", folder), max(1, repeats - 1)
        )
        record("synthetic load_movielens (join + frame)", len(data.ratings), seconds, "-")
        del data
    return {
        "benchmark": "data_read",
        "seed": seed,
        "repeats": repeats,
        "synthetic_rows": num_rows,
        "synthetic_ratings_csv_mb": round(size_mb, 1),
        "synthetic_write_s": round(write_seconds, 2),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "pyarrow": pa.__version__,
            "pandas": pd.__version__,
            "tfrs_mtl": tfrs_mtl.__version__,
        },
        "results": rows,
    }


def to_markdown(result: dict[str, Any]) -> str:
    lines = [
        "| workload | rows | median s | best s | rows/s (best) | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in result["results"]:
        lines.append(
            f"| {row['workload']} | {row['rows']:,} | {row['median_s']:.3f} | "
            f"{row['best_s']:.3f} | {row['rows_per_s'] / 1e6:.2f} M | {row['target']} |"
        )
    lines.append("")
    lines.append(
        f"Synthetic ratings.csv: {result['synthetic_rows']:,} rows, "
        f"{result['synthetic_ratings_csv_mb']} MB; seed {result['seed']}; best of "
        f"{result['repeats']}; {result['machine']['cpus']} CPUs shared with other jobs."
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=os.environ.get("TFRS_MTL_DATA_DIR"))
    parser.add_argument("--num-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.data_dir is None or not (Path(args.data_dir) / "ml-100k").is_dir():
        parser.error("pass --data-dir or set TFRS_MTL_DATA_DIR to a folder holding ml-100k/")
    result = run(Path(args.data_dir), args.num_rows, args.repeats, args.seed)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / "data_read.json").write_text(json.dumps(result, indent=2) + "\n")
    markdown = to_markdown(result)
    (args.output_dir / "data_read.md").write_text("# Data reading benchmark\n\n" + markdown)
    print(markdown)


if __name__ == "__main__":
    main()
