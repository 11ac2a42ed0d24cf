"""Export and load: same recommendations in-process, after load, and in a fresh process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf
from servable_fixtures import FakeServableModel, make_catalogue, make_queries

from tfrs_mtl.serving import export
from tfrs_mtl.serving.candidate_index import ScannUnavailableWarning
from tfrs_mtl.serving.export import LoadedRecommender, load
from tfrs_mtl.serving.index_config import IndexConfig
from tfrs_mtl.serving.manifest import ExportError
from tfrs_mtl.serving.recommender import Recommender

NUM_ITEMS = 120
REQUEST = {"k": 5, "num_candidates": 20, "exclude": [["m3"], [], ["m1", "m2"]]}


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    model = FakeServableModel(num_items=NUM_ITEMS)
    # 120 items // 50 = 2 leaves: a real ScaNN tree, both leaves searched.
    config = IndexConfig(min_items_to_partition=1, num_leaves=2, num_leaves_to_search=2)
    return Recommender(model, make_catalogue(NUM_ITEMS), config, progress=False)


@pytest.fixture(scope="module")
def export_dir(recommender, tmp_path_factory) -> Path:
    return recommender.save(tmp_path_factory.mktemp("exports") / "movies")


def queries() -> dict[str, np.ndarray]:
    return make_queries(["u1", "u2", "somebody new"])


def test_export_folder_and_manifest(recommender, export_dir) -> None:
    assert recommender.index.config.uses_partitioning
    manifest = json.loads((export_dir / "manifest.json").read_text())
    assert manifest["built_index_config"]["kind"] == "scann"
    assert manifest["versions"]["tensorflow"] == tf.__version__
    assert manifest["versions"]["scann"] == "1.4.2"
    assert manifest["model_config"] == {"num_users": 20, "num_items": NUM_ITEMS}
    assert manifest["fingerprints"]["vocabularies"] == recommender.model.vocabularies.fingerprint()
    assert len(manifest["fingerprints"]["index"]) == 64
    assert manifest["blend_order"] == ["retrieval", "rating", "purchase"]
    assert {entry["path"] for entry in manifest["files"]} >= {
        "saved_model.pb",
        "variables/variables.index",
        "variables/variables.data-00000-of-00001",
    }
    # No staging folder left beside the export.
    assert [p.name for p in export_dir.parent.iterdir()] == ["movies"]


def test_loaded_export_gives_the_same_recommendations(recommender, export_dir) -> None:
    loaded = load(export_dir)
    assert isinstance(loaded, LoadedRecommender)
    expected = recommender.recommend(queries(), **REQUEST)
    got = loaded.recommend(queries(), **REQUEST)
    np.testing.assert_array_equal(got.item_ids, expected.item_ids)
    np.testing.assert_allclose(got.final_scores, expected.final_scores, rtol=1e-6)
    np.testing.assert_allclose(got.scores["purchase"], expected.scores["purchase"], rtol=1e-6)
    assert loaded.recommend(make_queries([]), k=3).item_ids.shape == (0, 3)
    pairs = [["m1", "m9"]] * 3
    np.testing.assert_allclose(
        loaded.score(queries(), pairs)["rating"], recommender.score(queries(), pairs)["rating"]
    )


def test_plain_saved_model_load_serves_the_signatures(recommender, export_dir) -> None:
    import scann  # noqa: F401  (registers the Scann ops, as a TF Serving user would)

    restored = tf.saved_model.load(str(export_dir))
    assert set(restored.signatures) == {"recommend", "retrieve", "score"}
    features = {name: tf.constant(value) for name, value in queries().items()}
    outputs = restored.signatures["recommend"](
        **features,
        exclusions=tf.constant([["m3", ""], ["", ""], ["m1", "m2"]]),
        k=tf.constant(5),
        num_candidates=tf.constant(20),
        blend_weights=tf.constant([0.0, 1.0, 0.0]),
    )
    expected = recommender.recommend(queries(), **REQUEST, blend={"rating": 1.0})
    np.testing.assert_array_equal(outputs["item_ids"].numpy().astype(str), expected.item_ids)
    assert set(outputs) == {
        "item_ids",
        "retrieval_scores",
        "final_scores",
        "scores/rating",
        "scores/purchase",
    }


@pytest.mark.slow
def test_fresh_process_gives_the_same_recommendations(recommender, export_dir) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import tfrs_mtl.serving
        from servable_fixtures import make_queries
        loaded = tfrs_mtl.serving.load({str(export_dir)!r})
        results = loaded.recommend(make_queries(["u1", "u2", "somebody new"]), **{REQUEST!r})
        print(json.dumps(results.to_records()))
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    records = json.loads(completed.stdout.strip().splitlines()[-1])
    expected = recommender.recommend(queries(), **REQUEST).to_records()
    assert [r["item_id"] for r in records] == [r["item_id"] for r in expected]
    np.testing.assert_allclose(
        [r["final_score"] for r in records], [r["final_score"] for r in expected], rtol=1e-6
    )


def test_existing_folder_is_not_overwritten_by_default(recommender, export_dir) -> None:
    with pytest.raises(FileExistsError, match="overwrite=True"):
        recommender.save(export_dir)


def test_overwrite_replaces_the_folder(recommender, tmp_path) -> None:
    target = tmp_path / "export"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    recommender.save(target, overwrite=True)
    assert not (target / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
    load(target)


def test_failed_write_leaves_nothing_behind(recommender, tmp_path, monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export, "write_manifest", fail)
    with pytest.raises(OSError, match="disk full"):
        recommender.save(tmp_path / "export")
    assert list(tmp_path.iterdir()) == []


def test_missing_scann_at_load_says_how_to_fix_it(export_dir, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "scann.scann_ops.py.scann_ops", None)
    with pytest.raises(ExportError, match=r"holds a ScaNN index.*pip install scann==1\.4\.2"):
        load(export_dir)


def test_brute_force_fallback_exports_and_loads(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "scann.scann_ops.py.scann_ops", None)
    model = FakeServableModel(num_items=30)
    with pytest.warns(ScannUnavailableWarning):
        fallback = Recommender(model, make_catalogue(30), IndexConfig(), progress=False)
    path = fallback.save(tmp_path / "export")
    loaded = load(path)  # needs no ScaNN
    assert loaded.manifest["built_index_config"]["kind"] == "brute_force"
    assert loaded.manifest["index_config"]["kind"] == "scann"
    np.testing.assert_array_equal(
        loaded.recommend(queries(), k=3).item_ids, fallback.recommend(queries(), k=3).item_ids
    )
