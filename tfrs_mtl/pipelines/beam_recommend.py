"""Batch recommendation on Apache Beam: embed the catalogue, build the index, recommend.

    catalogue JSONL ─► BatchElements ─► EmbedCandidates (candidate tower, model loaded once
        per worker) ─► ToList ─► build_export (one worker: ScaNN index over the embeddings,
        the two-stage recommender exported to `export_dir`) ─┐ export path (side input)
    users JSONL ─► BatchElements ─► RecommendBatch (export loaded once per worker) ─► JSONL

The embedding is the parallel part; the index is built once, on one worker, from every
embedding (ScaNN trains its partitioner on the whole catalogue). Items are indexed in
candidate-id order, so the index does not depend on how the runner splits the input: the
output equals `Recommender(model, catalogue sorted by id, index_config).recommend(users)`
(a test checks it on the DirectRunner).

Paths must be visible to every worker (local disk on the DirectRunner, a shared mount on a
cluster); see docs/beam.md for the Dataflow, Flink and Spark runner flags.

Example:
    >>> write_jsonl(catalogue_columns, "items.jsonl"); write_jsonl(user_columns, "users.jsonl")
    >>> run_pipeline("run/model", "items.jsonl", "users.jsonl", "run/beam_export",
    ...              "run/recommendations", k=10)  # doctest: +SKIP

Command line:
    python -m tfrs_mtl.pipelines.beam_recommend --model-dir run/model \\
        --catalogue items.jsonl --users users.jsonl --export-dir run/beam_export \\
        --output run/recommendations --k 10 [--runner DirectRunner ...]
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

try:
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "tfrs_mtl.pipelines.beam_recommend needs Apache Beam: pip install 'tfrs-mtl[beam]' "
        "(in its own virtualenv: see docs/beam.md)"
    ) from error

import tensorflow as tf

from tfrs_mtl.models import MultiTaskModel
from tfrs_mtl.serving import IndexConfig, LoadedRecommender, Recommender, load, save

Row = dict[str, Any]


def _json_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray | np.generic):
        value = value.tolist()  # Python scalars, or nested lists of them
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def write_jsonl(columns: Mapping[str, np.ndarray], path: str | Path) -> Path:
    """Writes feature columns `{name: [num_rows, ...]}` as one JSON object per row.

    Use it for the pipeline's inputs, e.g. `item_catalogue.npz` or `serving_data.npz`
    columns of a run folder.
    """
    path = Path(path)
    sizes = {name: len(values) for name, values in columns.items()}
    if len(set(sizes.values())) != 1:
        raise ValueError(f"write_jsonl: columns differ in length: {sizes}")
    with path.open("w", encoding="utf-8") as out:
        for i in range(next(iter(sizes.values()))):
            row = {name: _json_value(np.asarray(values[i])) for name, values in columns.items()}
            out.write(json.dumps(row) + "\n")
    return path


def feature_columns(rows: Sequence[Row], signature: Mapping[str, tf.TensorSpec]) -> dict:
    """Stacks JSON rows into numpy columns of the signature's dtypes.

    Raises:
        ValueError: a row lacks a feature (naming the feature and the row).
    """
    columns: dict[str, np.ndarray] = {}
    for name, spec in signature.items():
        values = []
        for row in rows:
            if name not in row:
                raise ValueError(f"row {row!r} lacks feature {name!r}; expected {list(signature)}")
            values.append(row[name])
        if spec.dtype == tf.string:
            columns[name] = np.array([str(value) for value in values], dtype=object)
        else:
            columns[name] = np.asarray(values, dtype=spec.dtype.as_numpy_dtype)
    return columns


def _candidate_signature(model: MultiTaskModel) -> dict[str, tf.TensorSpec]:
    signature = model.feature_signature("candidate")
    names = dict.fromkeys([model.candidate_id_feature, *model.candidate_feature_names])
    return {name: signature[name] for name in names}


class EmbedCandidates(beam.DoFn):
    """Batch of catalogue rows -> `(row, embedding [embedding_dim])` per row.

    Args:
        model_dir: A folder written by `MultiTaskModel.save_model`, loaded once per worker.
    """

    def __init__(self, model_dir: str) -> None:
        self.model_dir = str(model_dir)

    def setup(self) -> None:
        self._model = MultiTaskModel.load_model(self.model_dir)

    def process(self, rows: list[Row]) -> Iterator[tuple[Row, np.ndarray]]:
        features = feature_columns(rows, _candidate_signature(self._model))
        encoded = self._model.candidate_encoder(features, training=False)
        yield from zip(rows, np.asarray(encoded, np.float32), strict=True)


class _PrecomputedCandidates:
    """The model, with its candidate encoder replaced by a lookup of embeddings computed by
    the pipeline's workers (so `Recommender` does not encode the catalogue again)."""

    def __init__(self, model: MultiTaskModel, embeddings: Mapping[str, np.ndarray]) -> None:
        self._model = model
        self._embeddings = embeddings

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def candidate_encoder(self, features: Mapping[str, Any], training: bool = False) -> np.ndarray:
        ids = np.asarray(features[self._model.candidate_id_feature])
        return np.stack([self._embeddings[_id_key(value)] for value in ids])


def _id_key(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def build_export(
    embedded: Sequence[tuple[Row, np.ndarray]],
    model_dir: str,
    export_dir: str,
    index_config: IndexConfig | None = None,
) -> str:
    """Indexes every embedded catalogue row (in candidate-id order) and exports the two-stage
    recommender to `export_dir` (replacing it). Returns `export_dir`."""
    model = MultiTaskModel.load_model(model_dir)
    id_feature = model.candidate_id_feature
    ordered = sorted(embedded, key=lambda pair: pair[0][id_feature])
    ids = [_id_key(row[id_feature]) for row, _ in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError(f"the catalogue repeats {id_feature} values; one row per item")
    catalogue = feature_columns([row for row, _ in ordered], _candidate_signature(model))
    embeddings = dict(zip(ids, (embedding for _, embedding in ordered), strict=True))
    servable: Any = _PrecomputedCandidates(model, embeddings)
    recommender = Recommender(servable, catalogue, index_config, progress=False)
    save(recommender, export_dir, overwrite=True)
    return str(export_dir)


def recommendation_record(row: Row, results: Any, position: int, query_id_feature: str) -> Row:
    """One output line: the query id, then `item_ids`, `retrieval_scores`, per-task `scores`
    and `final_scores`, best first (empty slots: null scores)."""
    return {
        query_id_feature: _json_value(row.get(query_id_feature)),
        "item_ids": _json_value(results.item_ids[position]),
        "retrieval_scores": _json_value(results.retrieval_scores[position]),
        "scores": {task: _json_value(v[position]) for task, v in results.scores.items()},
        "final_scores": _json_value(results.final_scores[position]),
    }


class RecommendBatch(beam.DoFn):
    """Batch of user rows (query features) -> one recommendation record per user.

    The export is loaded once per worker: in `setup` when `export_dir` is given here, else
    on the first batch from the `export_dir` side input.

    Args:
        k: Items per user.
        num_candidates: Items retrieved and re-ranked per user.
        blend: Final-score weights (`Recommender.recommend`); default the export's.
        exclude_key: Row key holding a list of item ids never to return (e.g. seen items).
        export_dir: An export folder (`tfrs_mtl.serving.save`), when known up front.
    """

    def __init__(
        self,
        k: int = 10,
        num_candidates: int = 200,
        blend: Mapping[str, float] | None = None,
        exclude_key: str | None = None,
        export_dir: str | None = None,
    ) -> None:
        self.k = k
        self.num_candidates = num_candidates
        self.blend = dict(blend) if blend else None
        self.exclude_key = exclude_key
        self.export_dir = export_dir

    def setup(self) -> None:
        self._recommender: LoadedRecommender | None = None
        self._loaded_from: str | None = None
        if self.export_dir is not None:
            self._load(self.export_dir)

    def _load(self, export_dir: str) -> LoadedRecommender:
        if self._recommender is None or self._loaded_from != export_dir:
            self._recommender = load(export_dir)
            self._loaded_from = export_dir
        return self._recommender

    def process(self, rows: list[Row], export_dir: str | None = None) -> Iterator[Row]:
        path = export_dir or self.export_dir
        if path is None:
            raise ValueError("RecommendBatch needs export_dir (argument or side input)")
        recommender = self._load(path)
        features = {name: [row.get(name) for row in rows] for name in recommender.query_signature}
        exclude = [row.get(self.exclude_key) or [] for row in rows] if self.exclude_key else None
        results = recommender.recommend(
            features,
            k=self.k,
            num_candidates=self.num_candidates,
            exclude=exclude,
            blend=self.blend,
        )
        query_id = recommender.manifest["query_id_feature"]
        for position, row in enumerate(rows):
            yield recommendation_record(row, results, position, query_id)


class EmbedAndIndex(beam.PTransform):
    """Catalogue rows -> a one-element PCollection: the export folder, once it is written."""

    def __init__(
        self,
        model_dir: str,
        export_dir: str,
        index_config: IndexConfig | None = None,
        max_batch_size: int = 4096,
    ) -> None:
        super().__init__()
        self.model_dir = str(model_dir)
        self.export_dir = str(export_dir)
        self.index_config = index_config
        self.max_batch_size = max_batch_size

    def expand(self, rows: Any) -> Any:
        return (
            rows
            | "BatchItems"
            >> beam.BatchElements(min_batch_size=1, max_batch_size=self.max_batch_size)
            | "Embed" >> beam.ParDo(EmbedCandidates(self.model_dir))
            | "Collect" >> beam.combiners.ToList()
            | "BuildIndex"
            >> beam.Map(build_export, self.model_dir, self.export_dir, self.index_config)
        )


class RecommendUsers(beam.PTransform):
    """User rows -> recommendation records, from an export path PCollection (side input)."""

    def __init__(self, export: Any, max_batch_size: int = 1024, **recommend: Any) -> None:
        super().__init__()
        self.export = export
        self.max_batch_size = max_batch_size
        self.recommend = recommend

    def expand(self, rows: Any) -> Any:
        return (
            rows
            | "BatchUsers"
            >> beam.BatchElements(min_batch_size=1, max_batch_size=self.max_batch_size)
            | "Recommend"
            >> beam.ParDo(RecommendBatch(**self.recommend), beam.pvalue.AsSingleton(self.export))
        )


def build_pipeline(
    pipeline: Any,
    model_dir: str,
    catalogue_path: str,
    users_path: str,
    export_dir: str,
    output_prefix: str,
    *,
    k: int = 10,
    num_candidates: int = 200,
    index_config: IndexConfig | None = None,
    exclude_key: str | None = None,
    num_shards: int = 0,
) -> None:
    """Adds the whole job to `pipeline`: read both JSONL inputs, embed and index the
    catalogue, recommend for every user, write `output_prefix-SSSSS-of-NNNNN.jsonl`."""
    items = pipeline | "ReadCatalogue" >> beam.io.ReadFromText(catalogue_path)
    export = (
        items
        | "ParseItems" >> beam.Map(json.loads)
        | "Index" >> EmbedAndIndex(model_dir, export_dir, index_config)
    )
    users = pipeline | "ReadUsers" >> beam.io.ReadFromText(users_path)
    (
        users
        | "ParseUsers" >> beam.Map(json.loads)
        | "RecommendUsers"
        >> RecommendUsers(export, k=k, num_candidates=num_candidates, exclude_key=exclude_key)
        | "ToJson" >> beam.Map(json.dumps)
        | "Write"
        >> beam.io.WriteToText(output_prefix, file_name_suffix=".jsonl", num_shards=num_shards)
    )


def run_pipeline(
    model_dir: str | Path,
    catalogue_path: str | Path,
    users_path: str | Path,
    export_dir: str | Path,
    output_prefix: str | Path,
    *,
    options: PipelineOptions | None = None,
    **kwargs: Any,
) -> None:
    """Runs `build_pipeline` to completion (DirectRunner unless `options` say otherwise)."""
    with beam.Pipeline(options=options or PipelineOptions()) as pipeline:
        build_pipeline(
            pipeline,
            str(model_dir),
            str(catalogue_path),
            str(users_path),
            str(export_dir),
            str(output_prefix),
            **kwargs,
        )


def main(argv: Sequence[str] | None = None) -> None:
    """The command line; arguments it does not know go to Beam's `PipelineOptions`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, help="MultiTaskModel.save_model folder")
    parser.add_argument("--catalogue", required=True, help="JSONL, one item per line")
    parser.add_argument("--users", required=True, help="JSONL, query features per line")
    parser.add_argument("--export-dir", required=True, help="where the recommender is exported")
    parser.add_argument("--output", required=True, help="output prefix of the JSONL shards")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--num-candidates", type=int, default=200)
    parser.add_argument("--index-config", help="IndexConfig as JSON, e.g. '{\"num_leaves\": 100}'")
    parser.add_argument("--exclude-key", help="user-row key listing item ids to leave out")
    parser.add_argument("--num-shards", type=int, default=0, help="0: the runner decides")
    known, beam_args = parser.parse_known_args(argv)
    index_config = (
        IndexConfig.from_dict(json.loads(known.index_config)) if known.index_config else None
    )
    run_pipeline(
        known.model_dir,
        known.catalogue,
        known.users,
        known.export_dir,
        known.output,
        options=PipelineOptions(beam_args),
        k=known.k,
        num_candidates=known.num_candidates,
        index_config=index_config,
        exclude_key=known.exclude_key,
        num_shards=known.num_shards,
    )


if __name__ == "__main__":
    main()
