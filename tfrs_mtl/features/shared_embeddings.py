"""`SharedEmbeddings`: owns every embedding table of a model exactly once.

The query tower, the candidate tower, the ranking experts and the attribute heads all hold a
reference to ONE `SharedEmbeddings` and read the same `[num_rows, embedding_dim]` variables, so
that every task trains the same representations (`docs/architecture.md`).
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf

from tfrs_mtl.features.errors import FeatureError
from tfrs_mtl.features.feature_config import FeatureConfig, FeatureSpec
from tfrs_mtl.features.raw_values import to_key_strings
from tfrs_mtl.features.vocabularies import FeatureVocabularies


@tf.keras.utils.register_keras_serializable(package="tfrs_mtl")
class SharedEmbeddings(tf.keras.layers.Layer):
    """One embedding variable and one key -> row mapping per table of a `FeatureSpec`.

    Rows of a vocabulary table: `[0, vocabulary_size)` are the fitted values in vocabulary
    order, `[vocabulary_size, vocabulary_size + num_oov_buckets)` are out-of-vocabulary buckets
    (an unseen key goes to bucket `hash(key) % num_oov_buckets`). A hashed table has
    `num_hash_bins` rows (`tf.strings.to_hash_bucket_fast`). A time table has `num_buckets`
    rows. Every key is a string (see `raw_values.to_key_strings`), so int64 and string ids of
    the same value share a row.

    Args:
        spec: the feature spec (or its `to_dict()`).
        vocabularies: vocabularies fitted on training data for `spec` (or their `to_dict()`).
        embeddings_initializer: Keras initializer of every table.
        **kwargs: passed to `tf.keras.layers.Layer`.

    Example:
        >>> shared = SharedEmbeddings(spec, FeatureVocabularies.fit(spec, train_arrays))
        >>> rows = shared.lookup("movie_id", tf.constant(["242", "unseen"]))  # [2] int64
        >>> vectors = shared.embed("movie_id", rows)  # [2, embedding_dim]
    """

    def __init__(
        self,
        spec: FeatureSpec | dict[str, Any],
        vocabularies: FeatureVocabularies | dict[str, Any],
        embeddings_initializer: str | dict[str, Any] = "uniform",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.spec = spec if isinstance(spec, FeatureSpec) else FeatureSpec.from_dict(spec)
        self.vocabularies = (
            vocabularies
            if isinstance(vocabularies, FeatureVocabularies)
            else FeatureVocabularies.from_dict(vocabularies)
        )
        self.embeddings_initializer = embeddings_initializer
        self.vocabularies.check_fitted(self.spec)
        self._table_features = self.spec.table_features()
        self._hash_tables: dict[str, tf.lookup.StaticHashTable] = {}
        self._variables_by_table: dict[str, tf.Variable] = {}
        for table, features in self._table_features.items():
            first = features[0]
            if first.uses_vocabulary:
                vocabulary = self.vocabularies.vocabulary(table)
                if vocabulary:
                    self._hash_tables[table] = tf.lookup.StaticHashTable(
                        tf.lookup.KeyValueTensorInitializer(
                            tf.constant(vocabulary, dtype=tf.string),
                            tf.range(len(vocabulary), dtype=tf.int64),
                        ),
                        default_value=-1,
                        name=f"{table}_lookup",
                    )
            self._variables_by_table[table] = self.add_weight(
                name=f"{table}_embeddings",
                shape=(self.num_rows(table), first.embedding_dim),
                # A fresh initializer per table: one instance would repeat its values.
                initializer=tf.keras.initializers.get(embeddings_initializer),
                trainable=True,
            )

    @property
    def table_names(self) -> tuple[str, ...]:
        """Every table, in the order its first feature is declared."""
        return tuple(self._table_features)

    def table_name(self, feature_name: str) -> str:
        """The table read by `feature_name`."""
        return self.spec.feature(feature_name).table_name

    def num_rows(self, table: str) -> int:
        """Rows of `table`: vocabulary + OOV buckets, hash bins, or time buckets."""
        first = self._features_of(table)[0]
        if first.kind == "time":
            return first.num_buckets
        if first.uses_vocabulary:
            return len(self.vocabularies.vocabulary(table)) + first.num_oov_buckets
        return first.num_hash_bins

    def embedding_table(self, table: str) -> tf.Variable:
        """The `[num_rows, embedding_dim]` variable of `table` (the shared one, not a copy)."""
        self._features_of(table)
        return self._variables_by_table[table]

    def lookup(self, feature_name: str, keys: tf.Tensor) -> tf.Tensor:
        """Maps raw values of `feature_name` (any shape; string/int/float/bool) to int64 rows.

        Text features expect tokens here (see `raw_values.tokenize`); time features use their
        bucket index directly and do not call this.
        """
        feature = self.spec.feature(feature_name)
        return self.lookup_in_table(feature.table_name, keys)

    def lookup_in_table(self, table: str, keys: tf.Tensor) -> tf.Tensor:
        """Maps keys to int64 rows of `table` (vocabulary + OOV buckets, or hashing)."""
        first = self._features_of(table)[0]
        strings = to_key_strings(keys)
        if not first.uses_vocabulary:
            return tf.strings.to_hash_bucket_fast(strings, first.num_hash_bins)
        vocabulary_size = len(self.vocabularies.vocabulary(table))
        oov_rows = vocabulary_size + tf.strings.to_hash_bucket_fast(strings, first.num_oov_buckets)
        rows = self._vocabulary_rows(table, strings)
        return tf.where(rows >= 0, rows, oov_rows)

    def _vocabulary_rows(self, table: str, strings: tf.Tensor) -> tf.Tensor:
        """int64 vocabulary rows of `table` for key `strings`, -1 where a key has none."""
        if table not in self._hash_tables:  # an empty vocabulary
            return tf.fill(tf.shape(strings), tf.constant(-1, tf.int64))
        return self._hash_tables[table].lookup(strings)

    def in_vocabulary(self, feature_name: str, keys: tf.Tensor) -> tf.Tensor:
        """bool, `keys`' shape: which raw values of `feature_name` have a vocabulary row (the
        others read an out-of-vocabulary bucket).

        Raises:
            ValueError: the feature's table hashes its values (no vocabulary to ask).
        """
        table = self.spec.feature(feature_name).table_name
        if not self._features_of(table)[0].uses_vocabulary:
            raise ValueError(f"in_vocabulary: {feature_name!r} hashes its values (no vocabulary)")
        return self._vocabulary_rows(table, to_key_strings(keys)) >= 0

    def embed(self, table: str, rows: tf.Tensor) -> tf.Tensor:
        """Gathers rows of `table`: int `[...]` -> float32 `[..., embedding_dim]`."""
        return tf.gather(self.embedding_table(table), rows)

    def call(self, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
        """Embeds each single-valued id/categorical feature present in `inputs`.

        Mostly for inspection; towers use `FeatureEncoder`, which also pools multi-valued and
        text features and encodes numeric and time features.

        Args:
            inputs: raw feature dict; values `[batch_size]`.

        Returns:
            feature name -> `[batch_size, embedding_dim]`.
        """
        return {
            feature.name: self.embed(feature.table_name, self.lookup(feature.name, value))
            for feature in self.spec.features
            if feature.kind in ("id", "categorical")
            and (value := inputs.get(feature.name)) is not None
        }

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "spec": self.spec.to_dict(),
                "vocabularies": self.vocabularies.to_dict(),
                "embeddings_initializer": self.embeddings_initializer,
            }
        )
        return config

    def _features_of(self, table: str) -> tuple[FeatureConfig, ...]:
        if table not in self._table_features:
            raise FeatureError(f"unknown table {table!r}; tables: {list(self._table_features)}")
        return self._table_features[table]
