"""`FeatureError`: raw features that do not match the declared feature spec."""

from __future__ import annotations


class FeatureError(ValueError):
    """A raw feature is missing, of an unsupported dtype or shape, or not fitted.

    The message names the feature and what was found and expected, e.g.
    `feature 'movie_genres': expected a 1-D or 2-D array, got shape (2, 3, 4)`.
    """
