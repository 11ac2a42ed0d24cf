"""tfrs_mtl.data: dataset readers with clear validation errors, splits and tensor conversion.

Reading needs no TensorFlow; `as_tf_dataset` and the `tutorial` split import it on use.

Example:
    >>> from tfrs_mtl.data import load_movielens, split, as_tf_dataset
    >>> data = load_movielens("movielens-100k")  # doctest: +SKIP
    >>> parts = split(data.ratings, "tutorial")  # doctest: +SKIP
    >>> train = as_tf_dataset(parts.train)  # doctest: +SKIP
"""

from tfrs_mtl.data.canonical_folds import CANONICAL_FOLDS, canonical_folds
from tfrs_mtl.data.describe import describe_dataset, format_description
from tfrs_mtl.data.errors import DataError, DataNotFoundError, ReadReport
from tfrs_mtl.data.movielens import MovieLensData, load_movielens
from tfrs_mtl.data.movielens_schema import GENRE_NAMES, MOVIELENS_NAMES, OCCUPATION_LABELS
from tfrs_mtl.data.movielens_tfds import in_tfds_order, tfds_order
from tfrs_mtl.data.registry import DATASET_NAMES, load_dataset, validate_dataset
from tfrs_mtl.data.split_config import SplitConfig, split_from_config
from tfrs_mtl.data.splits import SPLIT_METHODS, Split, kfold, split
from tfrs_mtl.data.tensors import as_tf_dataset, to_feature_arrays

__all__ = [
    "CANONICAL_FOLDS",
    "DATASET_NAMES",
    "GENRE_NAMES",
    "MOVIELENS_NAMES",
    "OCCUPATION_LABELS",
    "SPLIT_METHODS",
    "DataError",
    "DataNotFoundError",
    "MovieLensData",
    "ReadReport",
    "Split",
    "SplitConfig",
    "as_tf_dataset",
    "canonical_folds",
    "describe_dataset",
    "format_description",
    "in_tfds_order",
    "kfold",
    "load_dataset",
    "load_movielens",
    "split",
    "split_from_config",
    "tfds_order",
    "to_feature_arrays",
    "validate_dataset",
]
