"""`FeatureConfig` and `FeatureSpec`: which raw features feed which tower, and how.

A feature spec is declared once and read by everything downstream: vocabulary fitting
(`FeatureVocabularies.fit`), the shared tables (`SharedEmbeddings`), the encoders
(`FeatureEncoder`) and the serving signatures (`feature_signature`). No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from tfrs_mtl.config import Config, require

FeatureKind = Literal["id", "categorical", "multi_hot", "text", "numeric", "time"]
FeatureSide = Literal["query", "candidate"]
FeatureDtype = Literal["string", "int64", "float32", "bool"]

FEATURE_KINDS: tuple[str, ...] = ("id", "categorical", "multi_hot", "text", "numeric", "time")
# Kinds whose values are looked up (or hashed) in a table keyed by the value's string form.
LOOKUP_KINDS: tuple[str, ...] = ("id", "categorical", "multi_hot")
# Kinds that own an embedding table.
TABLE_KINDS: tuple[str, ...] = ("id", "categorical", "multi_hot", "text", "time")
# The raw dtype each kind arrives as when `dtype` is not given.
DEFAULT_DTYPES: dict[str, str] = {
    "id": "string",
    "categorical": "string",
    "multi_hot": "int64",
    "text": "string",
    "numeric": "float32",
    "time": "int64",
}


@dataclasses.dataclass(frozen=True)
class FeatureConfig(Config):
    """How one raw feature is encoded, and which tower reads it.

    Attributes:
        name: key of the feature in the raw feature dict (e.g. `movie_id`).
        kind: `id` / `categorical` (one value looked up or hashed), `multi_hot` (several values,
            padded with -1 or "" or ragged, pooled), `text` (tokens pooled from a word table),
            `numeric` (standardized with the training mean/std), `time` (unix seconds:
            quantile bucket embedding + standardized value + cyclical hour/day-of-week).
        side: `query` or `candidate`: the tower that reads the feature (or, with
            `ranking_only`, the side of the pair it describes).
        embedding_dim: width of the embedding table (ignored for `numeric`).
        table: name of the embedding table; defaults to the feature's name. Features naming the
            same table share its vocabulary and its single variable.
        num_oov_buckets: table rows reserved for values missing from the vocabulary.
        num_hash_bins: 0 looks values up in the fitted vocabulary; > 0 hashes them into this
            many rows instead (for very large vocabularies; no vocabulary is stored).
        max_vocabulary_size: keep only the most frequent values (0 keeps all). For `text`
            use `max_tokens`.
        combiner: pooling of `multi_hot` values and `text` tokens: `mean` or `sum`.
        max_tokens: size of the word vocabulary of a `text` table (most frequent tokens).
        num_buckets: quantile buckets of a `time` feature (table rows).
        use_log1p: `numeric` only: standardize `log1p(x)` instead of `x` (prices, counts).
        dtype: raw dtype of the feature (default by kind: ids/categorical/text `string`,
            multi_hot/time `int64`, numeric `float32`). Encoders accept any of these dtypes;
            this one only declares the serving signature.
        dropout: in training steps the towers read this feature with random parts left out,
            drawn afresh every step; evaluation and serving read every value. `multi_hot`:
            each value is dropped with this probability (input denoising as in Mult-DAE,
            Liang et al., "Variational Autoencoders for Collaborative Filtering", WWW 2018);
            `id` / `categorical`: the whole value becomes unknown (its OOV row), so the tower
            cannot memorise it and learns an embedding for unseen values. See
            `tfrs_mtl.models.feature_dropout`.
        ranking_only: read by the ranking stack alone, beside the towers' outputs, not by
            its side's tower: what the ranking stage knows of a pair that retrieval does
            not use (an item's price in a shop). Serving passes it like any feature of its
            side (the query signature, the catalogue's columns). An attribute task may
            predict it from its side's tower, which never reads it.
    """

    name: str
    kind: FeatureKind
    side: FeatureSide
    embedding_dim: int = 32
    table: str | None = None
    num_oov_buckets: int = 1
    num_hash_bins: int = 0
    max_vocabulary_size: int = 0
    combiner: Literal["mean", "sum"] = "mean"
    max_tokens: int = 10_000
    num_buckets: int = 100
    use_log1p: bool = False
    dtype: FeatureDtype | None = None
    dropout: float = 0.0
    ranking_only: bool = False

    def validate(self) -> None:
        where = f"feature {self.name!r}"
        require(bool(self.name), "FeatureConfig.name: must be a non-empty string")
        require(self.kind in FEATURE_KINDS, f"{where}: kind={self.kind!r} not in {FEATURE_KINDS}")
        require(self.side in ("query", "candidate"), f"{where}: side={self.side!r} unknown")
        require(self.embedding_dim > 0, f"{where}: embedding_dim={self.embedding_dim} must be > 0")
        require(self.table is None or bool(self.table), f"{where}: table must not be empty")
        require(self.num_hash_bins >= 0, f"{where}: num_hash_bins={self.num_hash_bins} < 0")
        require(
            self.num_oov_buckets >= 1 or self.num_hash_bins > 0 or self.kind not in LOOKUP_KINDS,
            f"{where}: num_oov_buckets={self.num_oov_buckets} must be >= 1 for a vocabulary "
            "lookup (unseen values need a row)",
        )
        require(self.num_oov_buckets >= 0, f"{where}: num_oov_buckets={self.num_oov_buckets} < 0")
        require(
            self.num_hash_bins == 0 or self.kind in LOOKUP_KINDS,
            f"{where}: num_hash_bins={self.num_hash_bins} only applies to kinds {LOOKUP_KINDS}",
        )
        require(
            self.max_vocabulary_size >= 0,
            f"{where}: max_vocabulary_size={self.max_vocabulary_size} < 0",
        )
        require(self.combiner in ("mean", "sum"), f"{where}: combiner={self.combiner!r} unknown")
        require(self.max_tokens > 0, f"{where}: max_tokens={self.max_tokens} must be > 0")
        require(self.num_buckets >= 1, f"{where}: num_buckets={self.num_buckets} must be >= 1")
        require(
            not self.use_log1p or self.kind == "numeric",
            f"{where}: use_log1p=True only applies to numeric features, not kind={self.kind!r}",
        )
        require(0.0 <= self.dropout < 1.0, f"{where}: dropout={self.dropout} is not in [0, 1)")
        require(
            self.dropout == 0.0 or self.kind in ("multi_hot", "id", "categorical"),
            f"{where}: dropout={self.dropout} only applies to multi_hot, id and categorical "
            f"features, not kind={self.kind!r}",
        )

    @property
    def table_name(self) -> str:
        """The embedding table the feature reads (its own name unless `table` is set)."""
        return self.table or self.name

    @property
    def raw_dtype(self) -> str:
        """The declared raw dtype (`dtype` or the kind's default)."""
        return self.dtype or DEFAULT_DTYPES[self.kind]

    @property
    def uses_vocabulary(self) -> bool:
        """True when the feature's table rows come from a fitted vocabulary (not hashing)."""
        return self.kind == "text" or (self.kind in LOOKUP_KINDS and self.num_hash_bins == 0)


def _table_signature(feature: FeatureConfig) -> tuple[object, ...]:
    """What must agree between features that share a table."""
    family = "lookup" if feature.kind in LOOKUP_KINDS else feature.kind
    return (
        family,
        feature.embedding_dim,
        feature.num_oov_buckets,
        feature.num_hash_bins,
        feature.max_vocabulary_size,
        feature.max_tokens if feature.kind == "text" else None,
        feature.num_buckets if feature.kind == "time" else None,
    )


@dataclasses.dataclass(frozen=True)
class FeatureSpec(Config):
    """The declared features of a model, in encoding order.

    Example:
        >>> spec = FeatureSpec(features=(
        ...     FeatureConfig(name="user_id", kind="id", side="query"),
        ...     FeatureConfig(name="movie_id", kind="id", side="candidate"),
        ... ))
        >>> [f.name for f in spec.query_features]
        ['user_id']
    """

    features: tuple[FeatureConfig, ...]

    def validate(self) -> None:
        require(len(self.features) > 0, "FeatureSpec.features: must declare at least one feature")
        names = [feature.name for feature in self.features]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        require(not duplicates, f"FeatureSpec.features: duplicate feature names {duplicates}")
        tables: dict[str, FeatureConfig] = {}
        for feature in self.features:
            if feature.kind not in TABLE_KINDS:
                require(
                    feature.table is None,
                    f"feature {feature.name!r}: table={feature.table!r} but numeric features "
                    "have no embedding table",
                )
                continue
            first = tables.setdefault(feature.table_name, feature)
            if first is feature:
                continue
            require(
                feature.kind != "time",
                f"feature {feature.name!r}: table={feature.table_name!r} is already used by "
                f"{first.name!r}; time features cannot share a table (their buckets differ)",
            )
            require(
                _table_signature(first) == _table_signature(feature),
                f"feature {feature.name!r}: shares table {feature.table_name!r} with "
                f"{first.name!r} but differs in kind family, embedding_dim, num_oov_buckets, "
                "num_hash_bins, max_vocabulary_size or max_tokens "
                f"({_table_signature(feature)} vs {_table_signature(first)})",
            )

    @property
    def query_features(self) -> tuple[FeatureConfig, ...]:
        """Query-side features (what a query is served with), in declared order."""
        return tuple(f for f in self.features if f.side == "query")

    @property
    def candidate_features(self) -> tuple[FeatureConfig, ...]:
        """Candidate-side features (the catalogue's columns), in declared order."""
        return tuple(f for f in self.features if f.side == "candidate")

    @property
    def ranking_features(self) -> tuple[FeatureConfig, ...]:
        """The `ranking_only` features of both sides, in declared order."""
        return tuple(f for f in self.features if f.ranking_only)

    def tower_features(self, side: str) -> tuple[FeatureConfig, ...]:
        """The features the `side` tower reads: its side's, but the `ranking_only` ones."""
        return tuple(f for f in self.side_features(side) if not f.ranking_only)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    def side_features(self, side: str) -> tuple[FeatureConfig, ...]:
        """Features of `side` (`query` or `candidate`)."""
        require(side in ("query", "candidate"), f"side={side!r}: expected 'query' or 'candidate'")
        return tuple(f for f in self.features if f.side == side)

    def feature(self, name: str) -> FeatureConfig:
        """The config of feature `name`; raises `KeyError` listing the declared names."""
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(f"feature {name!r} is not declared; declared: {list(self.names)}")

    def table_features(self) -> dict[str, tuple[FeatureConfig, ...]]:
        """Embedding table name -> the features reading it, in declared order."""
        tables: dict[str, list[FeatureConfig]] = {}
        for feature in self.features:
            if feature.kind in TABLE_KINDS:
                tables.setdefault(feature.table_name, []).append(feature)
        return {name: tuple(features) for name, features in tables.items()}

    def without(self, names: tuple[str, ...] | list[str]) -> FeatureSpec:
        """A copy without the named features (e.g. a task's target); unknown names raise."""
        for name in names:
            self.feature(name)
        return FeatureSpec(features=tuple(f for f in self.features if f.name not in set(names)))
