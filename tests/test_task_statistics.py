"""`TaskStatistics`: label vocabularies and regression statistics fitted on training data."""

from __future__ import annotations

import numpy as np
import pytest

from tfrs_mtl.config import ConfigError
from tfrs_mtl.models import TaskStatistics
from tfrs_mtl.tasks import TaskConfig

CATEGORY = TaskConfig(name="category", kind="attribute", label_key="category", target="multi_class")
PRICE = TaskConfig(name="price", kind="attribute", label_key="price", target="regression")
OCCUPATION = TaskConfig(
    name="occupation",
    kind="attribute",
    label_key="occupation",
    target="multi_class",
    num_classes=22,
    source_side="query",
)


def test_fit_vocabulary_by_frequency_and_regression_statistics() -> None:
    arrays = {
        "category": np.array(["b", "a", "b", "c", "a", "b"], dtype=object),
        "price": np.array([1.0, 3.0, 1.0, 3.0, 1.0, 3.0]),
        "occupation": np.array([0, 3, 21, 3, 3, 0]),
    }
    statistics = TaskStatistics.fit((CATEGORY, PRICE, OCCUPATION), arrays)
    assert statistics.label_vocabularies == {"category": ("b", "a", "c")}
    assert statistics.num_classes(CATEGORY) == 4  # + one class for unseen labels
    assert statistics.num_classes(OCCUPATION) == 22  # integer labels are class indices
    assert statistics.label_means["price"] == pytest.approx(2.0)
    assert statistics.label_stds["price"] == pytest.approx(1.0)
    assert TaskStatistics.from_dict(statistics.to_dict()) == statistics


def test_missing_label_names_task_and_key() -> None:
    with pytest.raises(KeyError, match="task 'price': label 'price' is missing"):
        TaskStatistics.fit((PRICE,), {"category": np.array(["a"])})


def test_interest_width_comes_from_the_training_profiles() -> None:
    interest = TaskConfig(
        name="interest", kind="interest", label_key="profile", source_side="query"
    )
    profiles = {"profile": np.array([[0.5, 0.5, 0.0], [0.0, 0.0, 1.0]], np.float32)}
    statistics = TaskStatistics.fit((interest,), profiles)
    assert statistics.num_classes(interest) == 3
    assert TaskStatistics.from_dict(statistics.to_dict()) == statistics
    fixed = interest.replace(num_classes=4)
    with pytest.raises(ConfigError, match="num_classes=4 but the profiles in 'profile' have 3"):
        TaskStatistics.fit((fixed,), profiles)
