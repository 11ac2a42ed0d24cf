"""tfrs_mtl.features: feature specs, vocabularies fitted on training data, shared embedding
tables and the encoders that turn a raw feature dict into one vector per tower."""

from tfrs_mtl.features.errors import FeatureError
from tfrs_mtl.features.feature_config import FeatureConfig, FeatureSpec
from tfrs_mtl.features.feature_encoder import FeatureEncoder, feature_output_dim
from tfrs_mtl.features.presets import ecommerce_feature_spec, movielens_feature_spec
from tfrs_mtl.features.raw_values import to_key_strings, tokenize
from tfrs_mtl.features.shared_embeddings import SharedEmbeddings
from tfrs_mtl.features.signature import feature_signature
from tfrs_mtl.features.user_history import HISTORY_FEATURE, UserHistories, user_history_feature
from tfrs_mtl.features.vocabularies import FeatureVocabularies, NumericStatistics, TimeStatistics

__all__ = [
    "HISTORY_FEATURE",
    "FeatureConfig",
    "FeatureEncoder",
    "FeatureError",
    "FeatureSpec",
    "FeatureVocabularies",
    "NumericStatistics",
    "SharedEmbeddings",
    "TimeStatistics",
    "UserHistories",
    "ecommerce_feature_spec",
    "feature_output_dim",
    "feature_signature",
    "movielens_feature_spec",
    "to_key_strings",
    "tokenize",
    "user_history_feature",
]
