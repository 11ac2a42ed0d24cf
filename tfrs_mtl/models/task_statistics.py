"""`TaskStatistics`: what the task labels need from the training data.

String multi-class labels (brand, category, occupation text) need a label vocabulary;
regression attributes (price, age) are standardized with the training mean and standard
deviation; an interest task's head is as wide as its training profiles. Fitted on TRAINING
arrays only and saved with the model as JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from tfrs_mtl.config import Config, require
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.tasks import TaskConfig


@dataclasses.dataclass(frozen=True)
class TaskStatistics(Config):
    """Label vocabularies and regression label statistics, keyed by task name.

    Attributes:
        label_vocabularies: Multi-class task -> its label values, most frequent first
            (one extra class is reserved for values unseen in training).
        label_means: Regression attribute or rating task -> training mean of the label.
        label_stds: Regression attribute task -> training standard deviation (> 0).
        profile_widths: Interest task -> number of classes of its training profiles
            `[num_examples, num_classes]`.
    """

    label_vocabularies: dict[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    label_means: dict[str, float] = dataclasses.field(default_factory=dict)
    label_stds: dict[str, float] = dataclasses.field(default_factory=dict)
    profile_widths: dict[str, int] = dataclasses.field(default_factory=dict)

    def validate(self) -> None:
        for name, std in self.label_stds.items():
            require(std > 0, f"label_stds.{name}={std} must be > 0")

    @classmethod
    def fit(cls, tasks: tuple[TaskConfig, ...], arrays: Mapping[str, np.ndarray]) -> TaskStatistics:
        """Fits on training arrays. String (or `num_classes=0`) multi-class labels get a
        vocabulary; integer labels with `num_classes > 0` are used as class indices. An
        attribute task with a sample weight (`TaskConfig.sample_weight_key`) reads only the
        rows weighted above 0."""
        vocabularies: dict[str, tuple[str, ...]] = {}
        means: dict[str, float] = {}
        stds: dict[str, float] = {}
        widths: dict[str, int] = {}
        for task in tasks:
            if task.kind not in ("attribute", "rating", "interest"):
                continue
            if task.label_key not in arrays:
                raise KeyError(
                    f"task {task.name!r}: label {task.label_key!r} is missing from the training "
                    f"arrays; found keys {sorted(arrays)}"
                )
            values = np.asarray(arrays[task.label_key])
            weight_key = task.sample_weight_key
            if task.kind == "attribute" and weight_key is not None and weight_key in arrays:
                # A row weighted 0 is no training example of the attribute.
                values = values[np.asarray(arrays[weight_key]).reshape(-1) > 0]
            if task.kind == "interest":
                widths[task.name] = _profile_width(task, values)
            elif task.kind == "rating":
                # The global bias starts at the mean rating: the first steps then do not
                # spend (and Adam's second moments do not remember) a huge rating gradient.
                means[task.name] = float(values.astype(np.float64).mean())
            elif task.target == "multi_class" and (
                task.num_classes == 0 or values.dtype.kind not in "iu"
            ):
                keys, counts = np.unique(key_strings(values), return_counts=True)
                order = np.lexsort((keys, -counts))
                vocabularies[task.name] = tuple(str(key) for key in keys[order])
            elif task.target == "regression":
                numbers = values.astype(np.float64)
                means[task.name] = float(numbers.mean())
                stds[task.name] = float(numbers.std()) or 1.0
        return cls(
            label_vocabularies=vocabularies,
            label_means=means,
            label_stds=stds,
            profile_widths=widths,
        )

    def num_classes(self, task: TaskConfig) -> int:
        """Output width of a multi-class, multi-label or interest task's head."""
        if task.name in self.label_vocabularies:
            return len(self.label_vocabularies[task.name]) + 1
        return task.num_classes or self.profile_widths.get(task.name, 0)


def _profile_width(task: TaskConfig, profiles: np.ndarray) -> int:
    require(
        profiles.ndim == 2 and profiles.shape[1] > 0,
        f"task {task.name!r}: label {task.label_key!r} must be profiles "
        f"[num_examples, num_classes], got shape {list(profiles.shape)}",
    )
    width = int(profiles.shape[1])
    require(
        task.num_classes in (0, width),
        f"task {task.name!r}: num_classes={task.num_classes} but the profiles in "
        f"{task.label_key!r} have {width} classes",
    )
    return width
