"""`describe_dataset` / `format_description` for the `tfrs-mtl data describe` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl.data.describe import describe_dataset, format_description
from tfrs_mtl.data.movielens import load_movielens

MOVIES = "movieId,title,genres\n1,A (1995),Comedy|Drama\n2,B (1996),Drama\n3,C (1997),Horror\n"
RATINGS = (
    "userId,movieId,rating,timestamp\n"
    "1,1,4.0,100\n1,2,4.5,200\n2,1,0.5,300\n2,1,4.0,400\n3,2,4.0,500\n"
)


@pytest.fixture
def data(tmp_path: Path):
    (tmp_path / "movies.csv").write_text(MOVIES)
    (tmp_path / "ratings.csv").write_text(RATINGS)
    return load_movielens("movielens-latest-small", tmp_path)


def test_movielens_description_is_hand_checked(data) -> None:
    description = describe_dataset(data, num_top=2)
    assert description["num_ratings"] == 5
    assert (description["num_users"], description["num_items"]) == (3, 2)
    assert description["num_catalogue_items"] == 3
    # 4 distinct (user, movie) pairs of 3 * 2 cells.
    assert description["sparsity"] == pytest.approx(1 - 4 / 6)
    assert description["rating_histogram"] == {"0.5": 1, "4.0": 3, "4.5": 1}
    assert description["mean_rating"] == pytest.approx(17.0 / 5)
    assert description["time_range"] == [100, 500]
    # Drama is in every rated movie (5 ratings), Comedy in movie 1 (3); Horror is unrated.
    assert description["top_genres"] == [["Drama", 5], ["Comedy", 3]]


def test_format_description_is_a_readable_table(data) -> None:
    text = format_description(describe_dataset(data))
    lines = text.splitlines()
    assert lines[0].split() == ["name", "movielens-latest-small"]
    assert "num_ratings" in text and "rating_histogram" in text
    assert any(line.split() == ["0.5", "1"] for line in lines)
    assert any(line.split() == ["sparsity", "0.3333"] for line in lines)
    assert any(line.split() == ["time_range", "100", "..", "500"] for line in lines)


def test_event_logs_dispatch_on_their_events_frame() -> None:
    from tfrs_mtl.data.synthetic import generate_synthetic_ecommerce

    generated = generate_synthetic_ecommerce()
    log = generated.log
    description = describe_dataset(log)
    assert description["num_events"] == len(log.events)
    assert description["num_users"] == log.events["user_id"].nunique()
    assert describe_dataset(generated) == description


def test_other_types_are_refused() -> None:
    with pytest.raises(TypeError, match="cannot describe list"):
        describe_dataset([])
