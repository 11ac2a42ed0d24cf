"""tfrs_mtl.data: dataset readers with clear validation errors, splits and tensor conversion.

Reading needs no TensorFlow; `as_tf_dataset` and the `tutorial` split import it on use.

Example:
    >>> from tfrs_mtl.data import load_movielens, split, as_tf_dataset
    >>> data = load_movielens("movielens-100k")  # doctest: +SKIP
    >>> parts = split(data.ratings, "tutorial")  # doctest: +SKIP
    >>> train = as_tf_dataset(parts.train)  # doctest: +SKIP
"""

from tfrs_mtl.data.aggregate import aggregate_interactions
from tfrs_mtl.data.describe import describe_dataset
from tfrs_mtl.data.errors import DataError, DataNotFoundError, ReadReport
from tfrs_mtl.data.event_csv import read_event_table
from tfrs_mtl.data.events import BEHAVIORS, EventLog, describe_event_log
from tfrs_mtl.data.movielens import MovieLensData, load_movielens
from tfrs_mtl.data.movielens_schema import GENRE_NAMES
from tfrs_mtl.data.registry import DATASET_NAMES, load_dataset
from tfrs_mtl.data.retailrocket import load_retailrocket
from tfrs_mtl.data.split_config import SplitConfig, split_from_config
from tfrs_mtl.data.splits import SPLIT_METHODS, Split, kfold, split
from tfrs_mtl.data.synthetic import (
    SyntheticEcommerce,
    generate_synthetic_ecommerce,
    write_synthetic,
)
from tfrs_mtl.data.taobao import load_taobao
from tfrs_mtl.data.tensors import as_tf_dataset, to_feature_arrays

__all__ = [
    "BEHAVIORS",
    "DATASET_NAMES",
    "GENRE_NAMES",
    "SPLIT_METHODS",
    "DataError",
    "DataNotFoundError",
    "EventLog",
    "MovieLensData",
    "ReadReport",
    "Split",
    "SplitConfig",
    "SyntheticEcommerce",
    "aggregate_interactions",
    "as_tf_dataset",
    "describe_dataset",
    "describe_event_log",
    "generate_synthetic_ecommerce",
    "kfold",
    "load_dataset",
    "load_movielens",
    "load_retailrocket",
    "load_taobao",
    "read_event_table",
    "split",
    "split_from_config",
    "to_feature_arrays",
    "write_synthetic",
]
