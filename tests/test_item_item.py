"""`MultiTaskConfig.item_item_weight`: the towers' fixed item-item part (EASE fitted on the
training rows). The served dot product against the closed form computed here, what the
ranking stack and the genre head read, training leaves it fixed, save/load, the loss's
split of the constant columns, and the errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorflow as tf

from tfrs_mtl import _ease as ease
from tfrs_mtl.config import ConfigError
from tfrs_mtl.models import MultiTaskModel, build_dataset, item_item, movielens_config
from tfrs_mtl.models.catalogue import key_strings
from tfrs_mtl.tasks import RetrievalTask

WEIGHT = 0.5
L2 = 3.0


def _arrays(num_rows: int = 96, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    users = rng.integers(1, 9, size=num_rows)
    movies = rng.integers(1, 13, size=num_rows)
    history = rng.integers(1, 13, size=(num_rows, 5)).astype(np.int64)
    history[rng.random(history.shape) < 0.3] = -1
    return {
        "user_id": np.array([str(u) for u in users]),
        "movie_id": np.array([str(m) for m in movies]),
        "user_history": history,
        "user_rating": rng.integers(1, 6, size=num_rows).astype(np.float32),
        "movie_genres": np.array([[int(m) % 21, -1] for m in movies], np.int64),
    }


def _config(weight: float = WEIGHT, train_weight: float | None = None) -> Any:
    return movielens_config(
        embedding_dim=8,
        side_features=False,
        user_history=True,
        use_l2_norm=True,
        identity_embeddings=True,
        use_full_catalogue=True,
        history_positives=True,
        use_item_bias=True,
        item_item_weight=weight,
        item_item_train_weight=train_weight,
    ).replace(eval_top_k=(), item_item_l2=L2)


def _model(
    weight: float = WEIGHT,
    arrays: dict[str, np.ndarray] | None = None,
    train_weight: float | None = None,
) -> Any:
    tf.keras.utils.set_random_seed(0)
    return MultiTaskModel.from_data(
        _config(weight, train_weight), _arrays() if arrays is None else arrays
    )


def _batch(arrays: dict[str, np.ndarray]) -> dict[str, tf.Tensor]:
    return {name: tf.constant(values) for name, values in arrays.items()}


def _ease_by_row(model: Any, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """EASE's B[h, c] over the movie table's rows, from its definition (Steck 2019)."""
    rows = model.shared_embeddings.lookup("movie_id", tf.constant(arrays["movie_id"])).numpy()
    num_rows = model.item_item.width
    users = {user: i for i, user in enumerate(sorted(set(arrays["user_id"])))}
    x = np.zeros((len(users), num_rows))
    x[[users[u] for u in arrays["user_id"]], rows] = 1.0
    precision = np.linalg.inv(x.T @ x + L2 * np.eye(num_rows))
    b = np.eye(num_rows) - precision / np.diag(precision)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def _retrieval(model: Any, side: str, batch: Any, training: bool | None = None) -> np.ndarray:
    """`side`'s retrieval embeddings of `batch`: the tower's output and the part's columns."""
    tower = model.query_tower if side == "query" else model.candidate_tower
    output = tower(batch, training=training)
    return model.retrieval_embedding(side, batch, output, training).numpy()


def test_the_served_score_adds_the_weighted_ease_scores_of_the_history() -> None:
    arrays = _arrays()
    model, plain = _model(), _model(weight=0.0)
    batch = _batch(arrays)
    query = _retrieval(model, "query", batch)
    candidate = _retrieval(model, "candidate", batch)
    width = model.query_tower.embedding_width
    assert query.shape[1] == width + model.item_item.width
    # The towers' part is the plain model's (same seed, same weights), then the item-item part.
    np.testing.assert_allclose(query[:, :width], plain.query_tower(batch).numpy(), atol=1e-6)
    b = _ease_by_row(model, arrays)
    history_rows = model.shared_embeddings.lookup(
        "user_history", tf.constant(np.where(arrays["user_history"] < 0, 0, arrays["user_history"]))
    ).numpy()
    candidate_rows = model.shared_embeddings.lookup("movie_id", batch["movie_id"]).numpy()
    for i in range(len(arrays["movie_id"])):
        present = sorted(
            {
                int(r)
                for r, v in zip(history_rows[i], arrays["user_history"][i], strict=True)
                if v >= 0
            }
        )
        expected = (
            query[i, :width] @ candidate[i, :width] + WEIGHT * b[present, candidate_rows[i]].sum()
        )
        assert query[i] @ candidate[i] == pytest.approx(expected, abs=1e-4)
    # And the matrix the tower holds is B transposed.
    np.testing.assert_allclose(model.item_item.matrix.numpy(), b.T, atol=1e-5)


def test_the_ranking_stack_and_the_genre_head_do_not_read_the_item_item_part() -> None:
    arrays = _arrays()
    model = _model()
    batch = _batch(arrays)
    before = model.task_outputs(batch)
    ranked = model.ranker(batch)
    width = model.item_item.width
    rng = np.random.default_rng(1)
    model.item_item.set_matrix(rng.normal(size=(width, width)).astype(np.float32))
    after = model.task_outputs(batch)
    for task in ("rating", "genres"):
        np.testing.assert_allclose(after[task].numpy(), before[task].numpy(), atol=1e-6)
    for task, scores in model.ranker(batch).items():
        np.testing.assert_allclose(scores.numpy(), ranked[task].numpy(), atol=1e-6)
    # The retrieval embeddings do change.
    assert not np.allclose(after["candidate_embedding"], before["candidate_embedding"])


def test_training_moves_the_towers_but_not_the_item_item_matrix() -> None:
    arrays = _arrays()
    model = _model()
    fitted = model.item_item.matrix.numpy().copy()
    bias = model.candidate_tower.item_bias.numpy().copy()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.05))
    model.fit(build_dataset(arrays, 32), epochs=2, verbose=0)
    assert not any("item_item" in v.name for v in model.trainable_variables)
    np.testing.assert_array_equal(model.item_item.matrix.numpy(), fitted)
    assert not np.allclose(model.candidate_tower.item_bias.numpy(), bias)


def test_the_matrix_is_saved_and_loaded_with_the_model(tmp_path: Path) -> None:
    arrays = _arrays()
    model = _model()
    batch = _batch(arrays)
    expected = model.query_encoder(batch).numpy() @ model.candidate_encoder(batch).numpy().T
    model.save_model(tmp_path / "model")
    loaded = MultiTaskModel.load_model(tmp_path / "model")
    assert loaded.config.item_item_weight == WEIGHT
    np.testing.assert_allclose(loaded.item_item.matrix.numpy(), model.item_item.matrix.numpy())
    actual = loaded.query_encoder(batch).numpy() @ loaded.candidate_encoder(batch).numpy().T
    np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_served_only_the_towers_train_exactly_as_without_the_part(tmp_path: Path) -> None:
    # item_item_train_weight=0: training steps never see the item-item columns, so the
    # trained towers are the plain model's; the served score still adds WEIGHT * EASE.
    arrays = _arrays()
    batch = _batch(arrays)
    fused, plain = _model(train_weight=0.0), _model(weight=0.0)
    width = fused.query_tower.embedding_width
    assert _retrieval(fused, "query", batch, training=True).shape[1] == width
    assert _retrieval(fused, "candidate", batch, training=True).shape[1] == width
    histories = []
    for model in (fused, plain):
        model.compile(optimizer=tf.keras.optimizers.Adam(0.05))
        histories.append(model.fit(build_dataset(arrays, 32), epochs=2, verbose=0).history)
    assert histories[0]["retrieval/loss"] == pytest.approx(histories[1]["retrieval/loss"])
    query = _retrieval(fused, "query", batch)
    candidate = _retrieval(fused, "candidate", batch)
    np.testing.assert_allclose(query[:, :width], plain.query_tower(batch).numpy(), atol=1e-5)
    np.testing.assert_allclose(
        candidate[:, :width], plain.candidate_tower(batch).numpy(), atol=1e-5
    )
    served = (query * candidate).sum(axis=1)
    towers = (query[:, :width] * candidate[:, :width]).sum(axis=1)
    item_item_part = (query[:, width:] * candidate[:, width:]).sum(axis=1)
    np.testing.assert_allclose(served, towers + item_item_part, atol=1e-5)
    assert np.abs(item_item_part).max() > 1e-3
    np.testing.assert_allclose(query[:, width:].max(axis=1), WEIGHT)
    # The training weight survives a save and a load.
    fused.save_model(tmp_path / "model")
    loaded = MultiTaskModel.load_model(tmp_path / "model")
    assert loaded.config.item_item_train_weight == 0.0
    assert loaded.item_item.columns_in(training=True) == 0
    np.testing.assert_allclose(_retrieval(loaded, "query", batch), query, atol=1e-5)


def test_a_training_weight_scales_the_part_in_training_steps_only() -> None:
    # Weight 0.5 served, 0.2 in training: the training loss is the model's at weight 0.2
    # (same initial weights, same EASE matrix); evaluation steps and serving read 0.5.
    arrays = _arrays()
    batch = _batch(arrays)
    model, at_train_weight = _model(train_weight=0.2), _model(weight=0.2)
    width = model.query_tower.embedding_width
    for training, weight in ((True, 0.2), (False, WEIGHT), (None, WEIGHT)):
        np.testing.assert_allclose(
            _retrieval(model, "query", batch, training)[:, width:].max(axis=1), weight
        )
    task = model.config.task("retrieval")

    def loss(m: Any, training: bool) -> float:
        outputs = m.task_outputs(batch, training=training)
        return float(
            m.retrieval_losses.loss(
                task,
                m.task_layers["retrieval"],
                batch,
                outputs,
                m.embed_candidates,
                m.item_item,
                None,
                training,
            )
        )

    assert loss(model, True) == pytest.approx(loss(at_train_weight, True), rel=1e-5)
    assert loss(model, False) != pytest.approx(loss(at_train_weight, False), rel=1e-4)
    assert loss(model, False) == pytest.approx(loss(_model(), False), rel=1e-5)


@pytest.mark.parametrize("loss", ["multi_positive", "single_positive"])
def test_constant_columns_split_off_give_the_same_loss_and_gradients(loss: str) -> None:
    rng = np.random.default_rng(2)
    query = tf.constant(rng.normal(size=(6, 5)), tf.float32)
    catalogue = tf.constant(rng.normal(size=(9, 5)), tf.float32)
    query_fixed = tf.constant(rng.normal(size=(6, 3)), tf.float32)
    catalogue_fixed = tf.constant(rng.normal(size=(9, 3)), tf.float32)
    task = RetrievalTask(temperature=0.3)
    positives = tf.ragged.constant([[1, 4], [0], [8, 2, 2], [3], [-1], [5, 6]], tf.int64)
    indices = tf.constant([1, 0, 8, 3, -1, 5], tf.int64)

    def run(fixed_columns: int) -> tuple[float, list[np.ndarray]]:
        with tf.GradientTape() as tape:
            tape.watch([query, catalogue])
            q = tf.concat([query, query_fixed], axis=1)
            c = tf.concat([catalogue, catalogue_fixed], axis=1)
            if loss == "multi_positive":
                value = task.multi_positive_loss(q, positives, c, fixed_columns=fixed_columns)
            else:
                positive = tf.gather(c, tf.maximum(indices, 0))
                value = task.full_catalogue_loss(
                    q, positive, indices, c, fixed_columns=fixed_columns
                )
        return float(value), [g.numpy() for g in tape.gradient(value, [query, catalogue])]

    (whole, whole_grads), (split, split_grads) = run(0), run(3)
    assert split == pytest.approx(whole, rel=1e-5)
    for expected, actual in zip(whole_grads, split_grads, strict=True):
        np.testing.assert_allclose(actual, expected, atol=1e-5)


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="item_item_weight=-1"):
        _config().replace(item_item_weight=-1.0)
    with pytest.raises(ConfigError, match="identity_feature"):
        _config().replace(query_tower=_config().query_tower.replace(identity_feature=None))
    with pytest.raises(ConfigError, match=r"item_item_train_weight=0\.1 needs item_item_weight"):
        _config(weight=0.0).replace(item_item_train_weight=0.1)
    with pytest.raises(ConfigError, match=r"item_item_train_weight=-0\.1"):
        _config().replace(item_item_train_weight=-0.1)
    # The preset leaves it off without the identity embeddings it reads the history through.
    assert movielens_config(user_history=True, item_item_weight=0.5).item_item_weight == 0.0


def test_a_table_too_large_for_the_dense_matrix_is_refused(monkeypatch: Any) -> None:
    monkeypatch.setattr(item_item, "MAX_ITEM_ITEM_ROWS", 5)
    with pytest.raises(ValueError, match="MAX_ITEM_ITEM_ROWS=5"):
        _model()


def test_catalogue_keys_and_table_rows_agree() -> None:
    # Movies absent from training keep zero rows and columns (no interaction reaches them).
    arrays = _arrays()
    model = _model()
    seen = model.shared_embeddings.lookup(
        "movie_id", tf.constant(np.unique(key_strings(arrays["movie_id"])))
    ).numpy()
    unseen = np.setdiff1d(np.arange(model.item_item.width), seen)
    matrix = model.item_item.matrix.numpy()
    assert unseen.size > 0
    assert np.all(matrix[unseen] == 0) and np.all(matrix[:, unseen] == 0)


def test_the_multi_positive_loss_trains_around_the_served_item_item_scores() -> None:
    # A training row's history leaves its own movie out; the softmax's positives are the
    # whole history, and so is a served query's: the loss's constant logits read the history
    # with the row's own movie, `WEIGHT * (x_row + e_own) . W[c]`.
    arrays = _arrays()
    model = _model()
    batch = _batch(arrays)
    task = model.config.task("retrieval")
    layer = model.task_layers["retrieval"]
    outputs = model.task_outputs(batch)
    loss = model.retrieval_losses.loss(
        task, layer, batch, outputs, model.embed_candidates, model.item_item, None, training=False
    )
    width = model.item_item.width
    own = model.shared_embeddings.lookup("movie_id", batch["movie_id"]).numpy()
    query = outputs["query_embedding"].numpy().copy()
    query[np.arange(len(own)), query.shape[1] - width + own] = WEIGHT
    positives = tf.concat(
        [
            tf.RaggedTensor.from_tensor(
                model.retrieval_losses._rows.lookup(batch["movie_id"])[:, None]
            ),
            model.retrieval_losses._rows_of(batch["user_history"]),
        ],
        axis=1,
    )
    _, catalogue = model.embed_candidates(model.retrieval_losses._features)
    expected = layer.multi_positive_loss(tf.constant(query), positives, catalogue)
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    # Without the own movie the loss differs (the test can tell the two apart).
    plain = layer.multi_positive_loss(outputs["query_embedding"], positives, catalogue)
    assert float(plain) != pytest.approx(float(expected), rel=1e-4)


def test_the_two_stages_serve_and_export_with_the_item_item_part(tmp_path: Path) -> None:
    from tfrs_mtl.serving import IndexConfig, Recommender, load

    arrays = _arrays()
    model = _model()
    _, first = np.unique(arrays["movie_id"], return_index=True)
    catalogue = {name: arrays[name][first] for name in model.candidate_feature_names}
    queries = {name: arrays[name][:4] for name in model.query_feature_names}
    recommender = Recommender(model, catalogue, IndexConfig(), progress=False)
    # Stage 1 retrieves by the whole dot product (towers + item-item part) ...
    scores = recommender.encode_queries(queries) @ recommender.candidate_embeddings.T
    assert recommender.candidate_embeddings.shape[1] == model.query_tower.embedding_width + (
        model.item_item.width
    )
    results = recommender.recommend(queries, k=3, num_candidates=len(first), blend={"retrieval": 1})
    expected = recommender.catalogue_ids[np.argsort(-scores, axis=1, kind="stable")[:, :3]]
    np.testing.assert_array_equal(results.item_ids, expected.astype(str))
    # ... stage 2's rating is the model ranker's on each pair ...
    rows = [int(np.flatnonzero(catalogue["movie_id"] == item)[0]) for item in results.item_ids[0]]
    pairs = {name: np.repeat(values[:1], 3, axis=0) for name, values in queries.items()}
    pairs.update({name: values[rows] for name, values in catalogue.items()})
    direct = model.ranker({name: tf.constant(value) for name, value in pairs.items()})
    np.testing.assert_allclose(results.scores["rating"][0], direct["rating"].numpy(), rtol=1e-5)
    # ... and an export loads and serves the same.
    loaded = load(recommender.save(tmp_path / "export"))
    np.testing.assert_array_equal(
        loaded.recommend(queries, k=3).item_ids, recommender.recommend(queries, k=3).item_ids
    )


def test_the_gram_matrix_counts_each_pair_once() -> None:
    users = np.array([0, 0, 3, 3, 3, 5, 0, 9])
    items = np.array([1, 2, 1, 4, 4, 0, 1, 3])  # (0, 1) and (3, 4) twice
    x = np.zeros((10, 5))
    x[users, items] = 1.0
    np.testing.assert_array_equal(ease.binary_gram(users, items, 5), x.T @ x)
    assert not ease.binary_gram(np.array([], int), np.array([], int), 3).any()


def test_ease_weights_are_the_closed_form() -> None:
    rng = np.random.default_rng(0)
    x = (rng.random((30, 8)) < 0.3).astype(np.float64)
    gram = x.T @ x
    expected = np.linalg.inv(gram + 5.0 * np.eye(8))
    expected = -expected / np.diag(expected)[None, :]
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_allclose(ease.ease_weights(gram, 5.0), expected, rtol=1e-5, atol=1e-7)
    assert gram[0, 0] == x[:, 0].sum()  # the input is left as it was


def test_the_part_sits_beside_the_towers_and_round_trips_its_config() -> None:
    from tfrs_mtl.layers import ItemItemPart

    model = _model()
    assert isinstance(model.item_item, ItemItemPart)
    for tower in (model.query_tower, model.candidate_tower):
        assert not any("item_item" in variable.name for variable in tower.variables)
    assert _model(weight=0.0).item_item is None
    rebuilt = ItemItemPart.from_config(model.item_item.get_config())
    assert (rebuilt.width, rebuilt.weight, rebuilt.train_weight) == (
        model.item_item.width,
        WEIGHT,
        None,
    )
    with pytest.raises(ValueError, match="expected a"):
        model.item_item.set_matrix(np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="weight=0"):
        ItemItemPart(model.shared_embeddings, "user_history", "movie_id", weight=0.0)


def test_only_the_retrieval_positives_enter_the_matrix() -> None:
    # E-commerce rows hold sampled impressions the user never clicked (click 0); the
    # retrieval task weights its rows by `click`, and EASE's Gram matrix reads the clicks.
    arrays = _arrays()
    model = _model(arrays=arrays)
    clicked = np.random.default_rng(3).random(len(arrays["movie_id"])) < 0.6
    with_impressions = {**arrays, "click": clicked.astype(np.float32)}
    config = model.config.replace(
        tasks=tuple(
            task.replace(sample_weight_key="click") if task.kind == "retrieval" else task
            for task in model.config.tasks
        )
    )
    matrix = item_item.fit_item_item(model.shared_embeddings, config, with_impressions)
    positives_only = {name: values[clicked] for name, values in arrays.items()}
    expected = item_item.fit_item_item(model.shared_embeddings, model.config, positives_only)
    np.testing.assert_allclose(matrix, expected, atol=1e-6)
    # Every row counted would give another matrix (the test tells the two apart).
    every_row = item_item.fit_item_item(model.shared_embeddings, model.config, arrays)
    assert not np.allclose(matrix, every_row, atol=1e-4)
    with pytest.raises(ValueError, match="lack \\['click'\\]"):
        item_item.fit_item_item(model.shared_embeddings, config, arrays)


def test_without_an_l2_the_part_scales_it_to_the_data() -> None:
    # λ = L2_PER_INTERACTION x the mean number of users per interacted item: the same
    # interactions twice over (every user duplicated) double λ and leave the matrix alone.
    arrays = _arrays()
    model = _model(arrays=arrays)
    config = model.config.replace(item_item_l2=None)
    users = {user: i for i, user in enumerate(sorted(set(arrays["user_id"])))}
    rows = model.shared_embeddings.lookup("movie_id", tf.constant(arrays["movie_id"])).numpy()
    pairs = {(users[u], r) for u, r in zip(arrays["user_id"], rows, strict=True)}
    per_item = len(pairs) / len({r for _, r in pairs})
    expected_l2 = ease.L2_PER_INTERACTION * per_item
    matrix = item_item.fit_item_item(model.shared_embeddings, config, arrays)
    explicit = item_item.fit_item_item(
        model.shared_embeddings, config.replace(item_item_l2=expected_l2), arrays
    )
    np.testing.assert_allclose(matrix, explicit, atol=1e-6)
    assert not np.allclose(matrix, model.item_item.matrix.numpy(), atol=1e-4)  # λ=L2 differs
    doubled = {
        **arrays,
        **{
            name: np.concatenate([values, values])
            for name, values in arrays.items()
            if name != "user_id"
        },
        "user_id": np.concatenate([arrays["user_id"], np.char.add(arrays["user_id"], "b")]),
    }
    np.testing.assert_allclose(
        item_item.fit_item_item(model.shared_embeddings, config, doubled), matrix, atol=1e-5
    )


def test_with_recency_a_history_value_weighs_by_how_many_values_follow_it() -> None:
    from tfrs_mtl.layers import ItemItemPart

    model = _model()
    part = ItemItemPart(
        model.shared_embeddings,
        "user_history",
        "movie_id",
        weight=2.0,
        train_weight=0.0,
        recency=0.5,
    )
    # Oldest first, -1 padded; movie 3 listed twice keeps its later (larger) weight.
    history = np.array([[3, 5, 3, 7, -1], [9, -1, -1, -1, -1], [-1, -1, -1, -1, -1]], np.int64)
    rows = model.shared_embeddings.lookup("user_history", tf.constant([3, 5, 7, 9])).numpy()
    row = dict(zip((3, 5, 7, 9), rows, strict=True))
    weights = part.history_weights({"user_history": tf.constant(history)}).numpy()
    expected = np.zeros((3, part.width), np.float32)
    expected[0, row[3]] = 2.0**-0.5  # one value (7) after its last listing
    expected[0, row[5]] = 3.0**-0.5
    expected[0, row[7]] = 1.0
    expected[1, row[9]] = 1.0
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
    served = part.query_columns({"user_history": tf.constant(history)}, training=False).numpy()
    np.testing.assert_allclose(served, 2.0 * expected, rtol=1e-6)
    part.set_recency(0.0)
    flat = part.history_weights({"user_history": tf.constant(history)}).numpy()
    np.testing.assert_array_equal(flat, (expected > 0).astype(np.float32))
    # The recency is part of the config (an export serves it), and must be >= 0.
    part.set_recency(0.75)
    assert ItemItemPart.from_config(part.get_config()).recency == 0.75
    with pytest.raises(ValueError, match="recency=-1"):
        part.set_recency(-1.0)
    with pytest.raises(ValueError, match="train_weight=0"):
        model.item_item.set_recency(0.5)  # trained with the part: its histories are unordered
    with pytest.raises(ConfigError, match="item_item_recency"):
        _config().replace(item_item_recency=-0.5)


def test_a_user_of_whom_nothing_is_known_is_served_by_the_item_biases(tmp_path: Path) -> None:
    from tfrs_mtl.serving import IndexConfig, Recommender, load

    arrays = _arrays()
    model = _model()
    _, first = np.unique(arrays["movie_id"], return_index=True)
    catalogue = {name: arrays[name][first] for name in model.candidate_feature_names}
    # A stranger with no history, a stranger with one, and a known user.
    queries = {
        "user_id": np.array(["nobody", "nobody", str(arrays["user_id"][0])]),
        "user_history": np.array([[-1, -1], [3, -1], [3, 5]], np.int64),
    }
    recommender = Recommender(model, catalogue, IndexConfig(kind="brute_force"), progress=False)
    scores = recommender.encode_queries(queries) @ recommender.candidate_embeddings.T
    width = model.query_tower.embedding_width
    bias = model.candidate_tower(
        {name: tf.constant(values) for name, values in catalogue.items()}
    ).numpy()[:, width - 1]
    np.testing.assert_allclose(scores[0], bias, atol=1e-6)
    assert not np.allclose(scores[1], bias) and not np.allclose(scores[2], bias)
    served = recommender.recommend(queries, k=4, num_candidates=len(first), blend={"retrieval": 1})
    by_bias = recommender.catalogue_ids[np.argsort(-bias, kind="stable")[:4]].astype(str)
    np.testing.assert_array_equal(served.item_ids[0], by_bias)
    # The export serves it the same way.
    loaded = load(recommender.save(tmp_path / "export"))
    again = loaded.recommend(queries, k=4, num_candidates=len(first), blend={"retrieval": 1})
    np.testing.assert_array_equal(again.item_ids, served.item_ids)
