"""`tfrs-mtl train | evaluate | export | recommend | cv | quickstart` end to end, and the
clean errors of bad arguments."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tfrs_mtl.cli import main

RUN_FILES = (
    "experiment.yaml",
    "metrics.json",
    "history.json",
    "history.csv",
    "report.md",
    "loss_curves.png",
    "task_weights.png",
    "recall_at_k.png",
    "serving_data.npz",
    "item_catalogue.npz",
    "model/config.json",
    "model/vocabularies.json",
    "export/manifest.json",
    "export/saved_model.pb",
    "export/serving_data.npz",
)
METRIC_KEYS = (
    "served/recall@10",
    "served/ndcg@10",
    "served/recall@20",
    "served/ndcg@20",
    "served/graded_ndcg@10",
    "served/liked_recall@10",
    "retrieval/graded_ndcg@10",
    "retrieval/liked_recall@10",
    "retrieval/recall@20",
    "retrieval/recall@10",
    "retrieval/ndcg@10",
    "retrieval/top100_hit",
    "rating/rmse",
    "rating/mae",
    "genres/seen_items_auc",
    "index/recall@10_vs_exact",
    "train_seconds",
    "seconds/load",
    "seconds/blend_fit",
    "seconds/train",
    "seconds/index",
    "seconds/evaluate",
    "seconds/baselines",
    "seconds/export",
    "baselines/popularity/retrieval/recall@10",
    "baselines/popularity/rating/rmse",
)


def invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, ml100k_dir: Path) -> Path:
    """One small training run: 3,000 real ml-100k ratings, 1 epoch, popularity only, the
    index tuned to recall@10 >= 0.9 against exact search."""
    out = tmp_path_factory.mktemp("runs") / "small"
    result = invoke(
        "train",
        "--dataset",
        "movielens-100k",
        "--data-dir",
        str(ml100k_dir),
        "--max-rows",
        "3000",
        "--epochs",
        "1",
        "--batch-size",
        "1024",
        "--baselines",
        "popularity",
        "--tune-index",
        "0.9",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(str(out))
    return out


def test_train_writes_every_output(run_dir: Path) -> None:
    missing = [name for name in RUN_FILES if not (run_dir / name).exists()]
    assert not missing
    assert any((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    assert any((run_dir / "checkpoints").glob("epoch-001*"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [key for key in METRIC_KEYS if key not in metrics] == []
    # Without an attribute holdout the genre head scores movies it trained on: no prediction.
    assert not [key for key in metrics if key.startswith("genres/") and "seen_items" not in key]
    # Tuned to >= 0.9 over every user; measured over the test users (most of them).
    assert metrics["index/recall@10_vs_exact"] >= 0.85
    assert "(tuned)" in (run_dir / "report.md").read_text()
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch"] == [1]
    for task in ("retrieval", "rating", "genres"):
        assert len(history[f"{task}/loss"]) == 1
        assert len(history[f"{task}/weight"]) == 1
        assert len(history[f"val_{task}/loss"]) == 1  # the blend fit's carve-out
    assert (
        "validation curves: the losses, after each epoch, on the carve-out"
        in (run_dir / "report.md").read_text()
    )
    assert not list(run_dir.glob(".*"))  # no staging leftovers


def test_evaluate_rescores_the_saved_model(run_dir: Path) -> None:
    before = json.loads((run_dir / "metrics.json").read_text())
    result = invoke("evaluate", "--model", str(run_dir), "--json", "--quiet")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    # Same split, same saved weights: the exact full-ranking metrics are reproduced.
    assert metrics["retrieval/recall@10"] == pytest.approx(before["retrieval/recall@10"], abs=1e-6)
    assert metrics["rating/rmse"] == pytest.approx(before["rating/rmse"], abs=1e-5)
    # The saved model's fitted blend, served through the run's (tuned) index: the same lists.
    assert metrics["served/ndcg@10"] == pytest.approx(before["served/ndcg@10"], abs=1e-6)
    assert (run_dir / "evaluations" / "tutorial" / "metrics.json").is_file()


def test_recommend_known_and_unknown_users(run_dir: Path) -> None:
    known = invoke("recommend", "--model", str(run_dir / "export"), "--user-id", "1", "-k", "5",
                   "--json")  # fmt: skip
    assert known.exit_code == 0, known.output
    records = json.loads(known.output)
    assert [r["rank"] for r in records] == [1, 2, 3, 4, 5]
    assert all(r["known_user"] and "rating_score" in r for r in records)
    unknown = invoke("recommend", "--model", str(run_dir), "--user-id", "no-such-user", "-k", "3")
    assert unknown.exit_code == 0, unknown.output
    assert "OOV" in unknown.output


def test_the_served_metrics_are_what_the_export_recommends(run_dir: Path, tmp_path: Path) -> None:
    """`served/*` in metrics.json equals the metrics of `tfrs-mtl recommend`'s own output
    from the exported artifact (its default blend, num_candidates, exclusions) for every
    test user: the run scores what a user receives."""
    from tfrs_mtl.experiments import ExperimentConfig
    from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
    from tfrs_mtl.experiments.served_evaluation import list_metrics

    config = ExperimentConfig.load(run_dir / "experiment.yaml")
    data = load_experiment_data(config)
    train, test = split_experiment_data(data, config.split)
    users = np.unique(data.user_index[data.positives(test)])
    ids = tmp_path / "users.txt"
    ids.write_text("\n".join(data.user_ids[users]) + "\n")
    out = tmp_path / "served.jsonl"
    result = invoke(
        "recommend",
        "--model",
        str(run_dir),
        "--user-ids-file",
        str(ids),
        "--output",
        str(out),
        "-k",
        "20",
    )
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    position = {user: row for row, user in enumerate(data.user_ids[users])}
    item_index = {item: index for index, item in enumerate(data.item_ids)}
    lists = np.full((len(users), 20), -1)
    for record in records:
        lists[position[str(record["user_id"])], record["rank"] - 1] = item_index[
            str(record["item_id"])
        ]
    found = list_metrics(lists, users, data, train, test)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    manifest = json.loads((run_dir / "export" / "manifest.json").read_text())
    assert manifest["default_blend"] == manifest["fitted_blend"]
    for name in ("recall@10", "ndcg@10", "recall@20", "graded_ndcg@10", "liked_recall@10"):
        assert found[name] == pytest.approx(metrics[f"served/{name}"], abs=1e-6), name


def test_recommend_takes_a_blend_and_refuses_a_bad_one(run_dir: Path) -> None:
    rating = invoke(
        "recommend",
        "--model",
        str(run_dir),
        "--user-id",
        "1",
        "-k",
        "5",
        "--blend",
        "rating=1",
        "--json",
    )
    assert rating.exit_code == 0, rating.output
    scores = [record["rating_score"] for record in json.loads(rating.output)]
    assert scores == sorted(scores, reverse=True)
    bad = CliRunner().invoke(
        main, ["recommend", "--model", str(run_dir), "--user-id", "1", "--blend", "clicks=1"]
    )
    assert bad.exit_code != 0
    assert "--blend: blend names unknown score(s) ['clicks']" in bad.output


def test_recommend_batch_writes_csv_and_jsonl(run_dir: Path, tmp_path: Path) -> None:
    ids = tmp_path / "users.txt"
    ids.write_text("1\n2\nnobody\n")
    for suffix in ("csv", "jsonl"):
        output = tmp_path / f"recs.{suffix}"
        result = invoke("recommend", "--model", str(run_dir), "--user-ids-file", str(ids),
                        "-k", "4", "--output", str(output))  # fmt: skip
        assert result.exit_code == 0, result.output
        lines = output.read_text().strip().splitlines()
        assert len(lines) == 3 * 4 + (1 if suffix == "csv" else 0)


def test_recommend_does_not_write_through_a_link(run_dir: Path, tmp_path: Path) -> None:
    ids = tmp_path / "users.txt"
    ids.write_text("1\n")
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("keep me\n")
    link = tmp_path / "recs.csv"
    link.symlink_to(elsewhere)
    result = invoke("recommend", "--model", str(run_dir), "--user-ids-file", str(ids),
                    "--output", str(link))  # fmt: skip
    assert result.exit_code == 1 and "symbolic link" in result.output
    assert elsewhere.read_text() == "keep me\n"


def test_export_from_run_folder_serves_the_same_items(run_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "exported"
    result = invoke("export", "--model", str(run_dir), "--out", str(target), "--index",
                    "brute_force")  # fmt: skip
    assert result.exit_code == 0, result.output
    manifest = json.loads((target / "manifest.json").read_text())
    original = json.loads((run_dir / "export" / "manifest.json").read_text())
    assert manifest["catalogue"]["num_items"] == original["catalogue"]["num_items"]
    assert (target / "serving_data.npz").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "--tasks", "retrieval,colour", "--out", "x"], "unknown task(s) ['colour']"),
        (["train", "--tasks", "rating", "--out", "x"], "lacks 'retrieval'"),
        (["train", "--baselines", "oracle", "--out", "x"], "unknown ['oracle']"),
        (["train", "--split", "u9", "--out", "x"], "--split 'u9'"),
        (["train", "--out", "../../outside"], "escapes the working folder"),
        (["cv", "--folds", "1"], "k >= 2"),
        (["cv", "--folds", "u0-u9"], "u1-u5"),
    ],
)
def test_bad_arguments_fail_cleanly(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert "Error:" in result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_train_without_out_names_the_option() -> None:
    result = CliRunner().invoke(main, ["train", "--dataset", "movielens-100k"])
    assert result.exit_code == 2
    assert "--out" in result.output


def test_train_refuses_a_non_empty_out(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(
        main, ["train", "--dataset", "synthetic-ecommerce", "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "--overwrite" in result.output
    assert (tmp_path / "keep.txt").read_text() == "mine"


@pytest.mark.slow
def test_cv_reports_mean_and_std_per_metric(tmp_path: Path) -> None:
    result = invoke(
        "cv",
        "--dataset",
        "synthetic-ecommerce",
        "--max-rows",
        "3000",
        "--folds",
        "2",
        "--epochs",
        "1",
        "--baselines",
        "popularity",
        "--index",
        "brute_force",
        "--out",
        str(tmp_path),
        "--json",
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert "retrieval/recall@10" in summary and "click/auc" in summary
    assert all(len(pair) == 2 and pair[1] >= 0 for pair in summary.values())
    saved = json.loads((tmp_path / "cv.json").read_text())
    assert len(saved["per_fold"]) == 2
    values = [fold["retrieval/recall@10"] for fold in saved["per_fold"]]
    assert summary["retrieval/recall@10"][0] == pytest.approx(sum(values) / 2)
    assert summary["retrieval/recall@10"][1] == pytest.approx(abs(values[0] - values[1]) / 2)


@pytest.mark.slow
def test_quickstart_runs_offline_on_synthetic_data(tmp_path: Path) -> None:
    out = tmp_path / "quick"
    result = invoke("quickstart", "--dataset", "synthetic-ecommerce", "--max-rows", "4000",
                    "--epochs", "1", "--out", str(out), "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "retrieval/recall@10" in result.output
    assert "top 10 for user" in result.output
    assert "purchase_score" in result.output
    # The attribute heads' lookup of trained-on items is neither a row nor a column.
    assert "seen_items" not in result.output and "predicted_" not in result.output
    assert (out / "report.md").is_file() and (out / "export" / "manifest.json").is_file()


@pytest.mark.parametrize(("arguments", "epochs"), [((), None), (("--epochs", "2"), 2)])
def test_quickstart_trains_the_library_default_unless_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, arguments: tuple, epochs: int | None
) -> None:
    import tfrs_mtl.experiments
    from tfrs_mtl.experiments import ExperimentConfig

    seen = []

    def stop(config, folder, **kwargs):  # the config is all this test needs
        seen.append(config)
        raise tfrs_mtl.config.ConfigError("stopped by the test")

    monkeypatch.setattr(tfrs_mtl.experiments, "run_experiment", stop)
    result = invoke("quickstart", "--out", str(tmp_path / "quick"), "--quiet", *arguments)
    assert result.exit_code != 0 and "stopped by the test" in result.output
    assert seen[0].epochs == (ExperimentConfig().epochs if epochs is None else epochs)
    assert seen[0].model_config() == ExperimentConfig().model_config()
    assert seen[0].model_config().item_item_weight > 0
    invoke("quickstart", "--out", str(tmp_path / "off"), "--quiet", "--item-item-weight", "0")
    assert seen[1].model_config().item_item_weight == 0.0


def test_config_file_with_option_overrides(tmp_path: Path) -> None:
    from tfrs_mtl.cli.experiment_options import build_config

    path = tmp_path / "experiment.yaml"
    path.write_text("dataset: synthetic-ecommerce\nepochs: 2\nbaselines: [popularity]\n")
    config = build_config(
        str(path), None, None, 500, "retrieval,click", "ple", None, "full_catalogue", None,
        None, None, None, None, None, "brute_force", None, None, split="random",
    )  # fmt: skip
    assert (config.dataset, config.epochs, config.max_rows) == ("synthetic-ecommerce", 2, 500)
    assert config.tasks == ("retrieval", "click")
    assert (config.architecture, config.index.kind, config.split.method) == (
        "ple",
        "brute_force",
        "random",
    )
    assert config.baselines == ("popularity",)
    retrieval = config.model_config().task("retrieval")
    assert (retrieval.use_full_catalogue, retrieval.use_logq_correction) == (True, False)


def test_retrieval_options_reach_the_model_config() -> None:
    from tfrs_mtl.cli.experiment_options import build_config

    none = dict.fromkeys(
        (
            "config_path", "dataset", "data_dir", "max_rows", "tasks", "architecture",
            "weighting", "retrieval_negatives", "epochs", "batch_size", "optimizer",
            "learning_rate", "embedding_dim", "seed", "index_kind", "index_target_recall",
            "baselines",
        )
    )  # fmt: skip
    default = build_config(**none).model_config()
    assert default.task("retrieval").positives_feature == "user_history"
    changed = build_config(
        **none,
        retrieval_positives="item",
        retrieval_temperature=0.5,
        history_dropout=0.25,
        user_id_dropout=0.0,
    ).model_config()
    retrieval = changed.task("retrieval")
    assert (retrieval.positives_feature, retrieval.temperature) == (None, 0.5)
    dropout = {feature.name: feature.dropout for feature in changed.features.features}
    assert (dropout["user_history"], dropout["user_id"]) == (0.25, 0.0)
    assert default.item_item_weight > 0 and changed.item_item_weight == default.item_item_weight
    off = build_config(**none, item_item_weight=0.0).model_config()
    assert off.item_item_weight == 0.0
    assert build_config(**none, item_item_weight=0.2).model_config().item_item_weight == 0.2
    assert default.item_item_recency == 0.0  # fitted per run where histories have times
    recent = build_config(**none, item_item_weight=0.2, item_item_recency=0.5).model_config()
    assert recent.item_item_recency == 0.5


def test_bad_config_file_names_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("dataset: movielens-100k\nepoch: 2\n")
    result = CliRunner().invoke(main, ["train", "--config", str(path), "--out", "x"])
    assert result.exit_code == 1
    assert "bad.yaml" in result.output and "'epoch'" in result.output


def test_evaluate_on_another_split_warns_and_writes_its_folder(run_dir: Path) -> None:
    with pytest.warns(UserWarning, match="trained on split tutorial"):
        result = invoke("evaluate", "--model", str(run_dir), "--split", "random", "--quiet")
    assert result.exit_code == 0, result.output
    assert "retrieval/recall@10" in result.output
    assert (run_dir / "evaluations" / "random" / "report.md").is_file()


def test_export_adds_new_items_from_a_csv_and_refuses_known_ids(
    run_dir: Path, tmp_path: Path
) -> None:
    from tfrs_mtl.models import Catalogue

    features = Catalogue.load(run_dir / "item_catalogue.npz").features
    first = {name: values[0] for name, values in features.items()}
    rows = []
    for new_id in ("90001", "90002"):
        row = {}
        for name, value in first.items():
            if name == "movie_id":
                row[name] = new_id
            elif np.ndim(value) == 1:  # multi-valued: '|'-separated, padding left out
                row[name] = "|".join(str(v) for v in value if v not in (-1, b"", ""))
            else:
                row[name] = value.decode() if isinstance(value, bytes) else str(value)
        rows.append(row)
    # The run's display column: one new title, one left blank.
    rows[0]["movie_title"], rows[1]["movie_title"] = "A Film Nobody Has Rated (2026)", ""
    items = tmp_path / "new_items.csv"
    import pandas as pd

    pd.DataFrame(rows).to_csv(items, index=False)
    target = tmp_path / "grown"
    result = invoke("export", "--model", str(run_dir), "--out", str(target), "--add-items",
                    str(items))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "added 2 items" in result.output and "90001" in result.output  # unknown to the model
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["catalogue"]["num_items"] == len(features["movie_id"]) + 2
    # `recommend` on the export names the new items by the file's titles (none: blank).
    everything = invoke("recommend", "--model", str(target), "--user-id", "1", "-k",
                        str(len(features["movie_id"]) + 2), "--include-seen", "--json")  # fmt: skip
    assert everything.exit_code == 0, everything.output
    shown = {row["item_id"]: row["item"] for row in json.loads(everything.output)}
    assert shown["90001"] == "A Film Nobody Has Rated (2026)" and shown["90002"] == ""
    # An id the catalogue holds is refused, and nothing is written.
    known = tmp_path / "known.csv"
    pd.DataFrame([{**rows[0], "movie_id": first["movie_id"]}]).to_csv(known, index=False)
    refused = invoke("export", "--model", str(run_dir), "--out", str(tmp_path / "no"),
                     "--add-items", str(known))  # fmt: skip
    assert refused.exit_code != 0 and "already in the catalogue" in refused.output
    assert not (tmp_path / "no" / "manifest.json").exists()


def test_complete_attributes_reads_a_movie_tables_genres_as_lists(
    run_dir: Path, tmp_path: Path
) -> None:
    """The column may be named after the task (`genres`) rather than its labels
    (`movie_genres`); its CSV cells are '|'-separated lists, completed as sets."""
    import pandas as pd

    from tfrs_mtl.models import Catalogue

    ids = Catalogue.load(run_dir / "item_catalogue.npz").features["movie_id"].astype(str)
    names = ("Drama", "Comedy|Romance", "Action|Thriller")
    genres = [names[index % 3] if index % 5 else "" for index in range(len(ids))]
    source = tmp_path / "movies.csv"
    pd.DataFrame({"movie_id": ids, "genres": genres}).to_csv(source, index=False)
    target = tmp_path / "filled.csv"
    result = invoke("complete-attributes", "--model", str(run_dir), "--items", str(source),
                    "--output", str(target))  # fmt: skip
    assert result.exit_code == 0, result.output
    filled = pd.read_csv(target, dtype=str, keep_default_na=False)
    assert "genres_share" not in filled  # a set, not one class
    completed = filled[filled["genres_completed"] == "True"]
    assert len(completed) == sum(1 for value in genres if not value)
    known = {"Drama", "Comedy", "Romance", "Action", "Thriller"}
    assert all(value and set(value.split("|")) <= known for value in completed["genres"])
