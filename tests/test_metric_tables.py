"""The terminal tables: what recommend serves first, baselines serving their own ranking, the
run's phases in the order they ran."""

from __future__ import annotations

from tfrs_mtl.cli.metric_tables import comparison_table, summary_table


def test_served_rows_come_first_and_a_baseline_serves_its_ranking() -> None:
    table = comparison_table(
        {
            "rating/rmse": 0.9,
            "retrieval/ndcg@10": 0.45,
            "served/ndcg@10": 0.46,
            "baselines/ease/retrieval/ndcg@10": 0.44,
            "seconds/export": 2.0,
            "seconds/load": 1.0,
            "seconds/train": 3.0,
        }
    ).splitlines()
    assert [line.split()[0] for line in table[1:4]] == [
        "served/ndcg@10",
        "retrieval/ndcg@10",
        "rating/rmse",
    ]
    assert table[1].split()[1:] == ["0.4600", "0.4400"]
    assert table[-1] == "(wall time by phase: load 1.0 s, train 3.0 s, export 2.0 s)"


def test_a_lookup_score_of_items_the_heads_trained_on_is_not_shown() -> None:
    table = comparison_table(
        {"served/ndcg@10": 0.46, "genres/auc": 0.8, "genres/seen_items_auc": 1.0}
    )
    rows = [line.split()[0] for line in table.splitlines()[1:]]
    assert rows == ["served/ndcg@10", "genres/auc"]


def test_the_summary_puts_served_metrics_first() -> None:
    lines = summary_table(
        {"retrieval/ndcg@10": (0.4, 0.01), "served/ndcg@10": (0.41, 0.01)}, num_folds=2
    ).splitlines()
    assert lines[1].startswith("served/ndcg@10")
