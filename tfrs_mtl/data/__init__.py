"""tfrs_mtl.data: dataset readers with clear validation errors, splits and tensor conversion.

Reading needs no TensorFlow; `as_tf_dataset` and the `tutorial` split import it on use.

Example:
    >>> from tfrs_mtl.data import load_movielens, split, as_tf_dataset
    >>> data = load_movielens("movielens-100k")  # doctest: +SKIP
    >>> parts = split(data.ratings, "tutorial")  # doctest: +SKIP
    >>> train = as_tf_dataset(parts.train)  # doctest: +SKIP
"""

from tfrs_mtl.data.aggregate import aggregate_interactions, sample_negative_impressions
from tfrs_mtl.data.canonical_folds import CANONICAL_FOLDS, canonical_folds
from tfrs_mtl.data.describe import describe_dataset, format_description
from tfrs_mtl.data.errors import DataError, DataNotFoundError, ReadReport
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.events import BEHAVIORS, EventLog, describe_event_log
from tfrs_mtl.data.movielens import MovieLensData, load_movielens
from tfrs_mtl.data.movielens_schema import GENRE_NAMES, MOVIELENS_NAMES, OCCUPATION_LABELS
from tfrs_mtl.data.movielens_tfds import in_tfds_order, tfds_order
from tfrs_mtl.data.registry import DATASET_NAMES, load_dataset, validate_dataset
from tfrs_mtl.data.retailrocket import load_retailrocket
from tfrs_mtl.data.split_config import SplitConfig, split_from_config
from tfrs_mtl.data.splits import SPLIT_METHODS, Split, kfold, split
from tfrs_mtl.data.synthetic import (
    SyntheticEcommerce,
    generate_synthetic_ecommerce,
    write_synthetic,
)
from tfrs_mtl.data.synthetic_truth import FunnelParameters, SyntheticTruth
from tfrs_mtl.data.taobao import load_taobao
from tfrs_mtl.data.tensors import as_tf_dataset, to_feature_arrays

__all__ = [
    "BEHAVIORS",
    "CANONICAL_FOLDS",
    "DATASET_NAMES",
    "GENRE_NAMES",
    "MOVIELENS_NAMES",
    "OCCUPATION_LABELS",
    "SPLIT_METHODS",
    "DataError",
    "DataNotFoundError",
    "EventLog",
    "FunnelParameters",
    "MovieLensData",
    "ReadReport",
    "Split",
    "SplitConfig",
    "SyntheticEcommerce",
    "SyntheticTruth",
    "aggregate_interactions",
    "as_tf_dataset",
    "canonical_folds",
    "describe_dataset",
    "describe_event_log",
    "format_description",
    "generate_synthetic_ecommerce",
    "in_tfds_order",
    "kfold",
    "load_dataset",
    "load_movielens",
    "load_retailrocket",
    "load_taobao",
    "read_event_table",
    "sample_negative_impressions",
    "split",
    "split_from_config",
    "tfds_order",
    "to_feature_arrays",
    "validate_dataset",
    "write_synthetic",
]
