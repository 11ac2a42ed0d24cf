"""`save_model` / `load_model`: config + vocabularies + weights give identical predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from test_multitask_model import movielens_arrays

from tfrs_mtl.models import MultiTaskModel, build_dataset, movielens_config


def test_reload_gives_identical_predictions(tmp_path: Path) -> None:
    tf.keras.utils.set_random_seed(5)
    arrays = movielens_arrays()
    config = movielens_config(embedding_dim=4, weighting="uncertainty")
    # A genre head with its own movie embedding, trained over the catalogue: that variable
    # and the catalogue's genre labels are saved and restored too.
    config = config.replace(
        tasks=tuple(
            task.replace(private_embedding_dim=2, loss_over="batch_and_catalogue")
            if task.name == "genres"
            else task
            for task in config.tasks
        )
    )
    model = MultiTaskModel.from_data(config, arrays)
    model.compile_default()
    model.fit(build_dataset(arrays, 16), epochs=1, verbose=0)
    model.save_model(tmp_path / "model")
    assert {path.name for path in (tmp_path / "model").iterdir()} >= {
        "config.json",
        "vocabularies.json",
        "task_statistics.json",
        "catalogue.npz",
        "weights",
    }

    loaded = MultiTaskModel.load_model(tmp_path / "model")
    assert loaded.config == model.config
    assert loaded.catalogue is not None and model.catalogue is not None
    np.testing.assert_array_equal(
        loaded.catalogue.labels["movie_genres"], model.catalogue.labels["movie_genres"]
    )
    assert loaded.vocabularies.fingerprint() == model.vocabularies.fingerprint()
    batch = next(iter(build_dataset(arrays, 48, shuffle=False)))
    for view in ("query_encoder", "candidate_encoder"):
        np.testing.assert_array_equal(
            getattr(loaded, view)(batch).numpy(), getattr(model, view)(batch).numpy()
        )
    expected, actual = model.ranker(batch), loaded.ranker(batch)
    np.testing.assert_array_equal(actual["rating"].numpy(), expected["rating"].numpy())
    np.testing.assert_array_equal(
        loaded.task_outputs(batch)["genres"].numpy(), model.task_outputs(batch)["genres"].numpy()
    )
    np.testing.assert_array_equal(
        loaded.loss_weighting.log_variances.numpy(), model.loss_weighting.log_variances.numpy()
    )
    assert float(loaded.compute_loss(batch)) == pytest.approx(float(model.compute_loss(batch)))


def test_loading_a_folder_without_a_model_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"no config\.json"):
        MultiTaskModel.load_model(tmp_path)
