"""tfrs_mtl.serving: the candidate index, the two-stage recommender, export and load.

Example:
    >>> from tfrs_mtl.serving import IndexConfig, Recommender, load, tune_index
    >>> recommender = Recommender(model, catalogue, IndexConfig())
    >>> tuning = tune_index(recommender.candidate_embeddings,
    ...                     recommender.encode_queries(held_out_queries), target_recall=0.95)
    >>> recommender = Recommender(model, catalogue, tuning.best)
    >>> recommender.recommend(queries, k=10, exclude=seen, blend={"rating": 1.0}).to_frame()
    >>> recommender.save("exports/movies")
    >>> load("exports/movies").recommend(queries, k=10)  # in any fresh process
"""

from tfrs_mtl.serving.candidate_index import (
    BruteForceIndex,
    CandidateIndex,
    ScannIndex,
    ScannUnavailableWarning,
    build_index,
)
from tfrs_mtl.serving.catalogue_encoding import encode_catalogue
from tfrs_mtl.serving.export import LoadedRecommender, load, save
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.index_tuning import IndexMeasurement, TuningResult, tune_index
from tfrs_mtl.serving.interfaces import EmbeddingRanker, ServableModel
from tfrs_mtl.serving.manifest import ExportError, verify_export
from tfrs_mtl.serving.recommendations import Recommendations
from tfrs_mtl.serving.recommender import Recommender

__all__ = [
    "BruteForceIndex",
    "CandidateIndex",
    "EmbeddingRanker",
    "ExportError",
    "IndexConfig",
    "IndexMeasurement",
    "LoadedRecommender",
    "Recommendations",
    "Recommender",
    "ScannIndex",
    "ScannUnavailableWarning",
    "ServableModel",
    "TuningResult",
    "build_index",
    "encode_catalogue",
    "load",
    "save",
    "tune_index",
    "verify_export",
]
