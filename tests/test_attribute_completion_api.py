"""`complete_attributes`: an item table's missing attributes filled from the model's item
space, the same completion `--attribute-holdout` scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.attribute_evaluation import heldout_model_metrics
from tfrs_mtl.experiments.attribute_predictions import complete_attributes
from tfrs_mtl.experiments.experiment_data import load_experiment_data, split_experiment_data
from tfrs_mtl.experiments.experiment_run import train_model, with_data_shape
from tfrs_mtl.experiments.model_evaluation import item_catalogue


@pytest.fixture(scope="module")
def trained_shop():
    """A small shop trained with a quarter of its items' attributes held out."""
    config = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=120,
        synthetic_num_items=60,
        synthetic_num_events=3000,
        epochs=1,
        baselines=(),
        validation_fraction=0,
        validate_each_epoch=False,
        attribute_holdout=0.25,
    )
    data = load_experiment_data(config)
    train_positions, _ = split_experiment_data(data, config.split)
    config = with_data_shape(config, data, train_positions, lambda _message: None)
    model = train_model(config, data, train_positions, progress=False).model
    return model, item_catalogue(data, model), data.attribute_holdout


def _item_table(model, catalogue, holdout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The catalogue items with their true category and price, and the same table with the
    held-out items' values missing."""
    ids = np.asarray(catalogue[model.candidate_id_feature])[holdout.catalogue_items]
    truth = pd.DataFrame(
        {
            model.candidate_id_feature: ids,
            "category": np.asarray(holdout.item_values["category"]).astype(str),
            "price": np.asarray(holdout.item_values["price"], dtype=np.float64),
        }
    )
    items = truth.copy()
    items["category"] = items["category"].astype(object)
    items.loc[holdout.heldout, "category"] = None
    items.loc[holdout.heldout, "price"] = np.nan
    return truth, items


def test_completing_the_catalogue_is_the_completion_the_holdout_scores(trained_shop) -> None:
    model, catalogue, holdout = trained_shop
    truth, items = _item_table(model, catalogue, holdout)
    filled = complete_attributes(model, catalogue, items)
    held = holdout.heldout
    assert held.any() and (~held).any()
    # Labelled rows are kept, missing ones filled and flagged.
    assert filled["category_completed"].tolist() == held.tolist()
    assert filled["price_completed"].tolist() == held.tolist()
    assert (filled.loc[~held, "category"] == truth.loc[~held, "category"]).all()
    assert filled["category"].notna().all() and filled["price"].notna().all()
    assert filled["price"].dtype == np.float64
    shares = filled.loc[held, "category_share"]
    assert ((shares > 0) & (shares <= 1)).all() and filled.loc[~held, "category_share"].isna().all()
    assert list(filled.columns)[:5] == [
        model.candidate_id_feature,
        "category",
        "category_completed",
        "category_share",
        "price",
    ]
    # The numbers `--attribute-holdout` reports are this table's.
    scored = heldout_model_metrics(model, catalogue, holdout)
    accuracy = (filled.loc[held, "category"] == truth.loc[held, "category"]).mean()
    assert accuracy == pytest.approx(scored["category"]["accuracy"])
    error = filled.loc[held, "price"] - truth.loc[held, "price"]
    assert np.sqrt((error**2).mean()) == pytest.approx(scored["price"]["rmse"])


def test_a_list_column_is_completed_as_a_set_and_kinds_can_be_named(trained_shop) -> None:
    model, catalogue, holdout = trained_shop
    truth, items = _item_table(model, catalogue, holdout)
    items["tags"] = [[value, "shop"] for value in truth["category"]]
    items.loc[holdout.heldout, "tags"] = pd.Series(
        [[] for _ in range(int(holdout.heldout.sum()))], index=items.index[holdout.heldout]
    )
    filled = complete_attributes(model, catalogue, items, kinds={"price": "class"})
    completed = filled.loc[holdout.heldout, "tags"]
    # Every labelled item has "shop": it holds all the weight.
    assert all("shop" in tags and 1 <= len(tags) <= 2 for tags in completed)
    # A price read as a class is one of the labelled prices, with its share.
    known_prices = set(truth.loc[~holdout.heldout, "price"])
    assert set(filled.loc[holdout.heldout, "price"]) <= known_prices
    assert "price_share" in filled


def test_a_column_without_labels_or_gaps_stays_and_bad_tables_are_refused(trained_shop) -> None:
    model, catalogue, holdout = trained_shop
    truth, _ = _item_table(model, catalogue, holdout)
    table = truth.assign(note=None)
    filled = complete_attributes(model, catalogue, table)
    assert filled["note"].isna().all() and not filled["note_completed"].any()
    assert not filled["category_completed"].any()
    id_column = model.candidate_id_feature
    with pytest.raises(ValueError, match="not in the catalogue"):
        complete_attributes(model, catalogue, truth.assign(**{id_column: "no-such-item"}).head(1))
    with pytest.raises(ValueError, match="repeated"):
        complete_attributes(model, catalogue, pd.concat([truth.head(2), truth.head(1)]))
    with pytest.raises(ValueError, match=r"items has no '\w+' column"):
        complete_attributes(model, catalogue, truth.drop(columns=[id_column]))
    with pytest.raises(ValueError, match="kind"):
        complete_attributes(model, catalogue, truth, kinds={"price": "colour"})  # type: ignore[dict-item]
    # A price that is no finite number would be averaged into the completions near it.
    second = truth[id_column].iloc[1]
    for bad in ("cheap", np.inf):
        table = truth.astype({"price": object})
        table.loc[table.index[0], "price"] = None  # a gap to complete
        table.loc[table.index[1], "price"] = bad
        message = rf"'price' is a number column but 1 value\(s\) are not finite .* {second}: "
        with pytest.raises(ValueError, match=message):
            complete_attributes(model, catalogue, table)


def test_items_the_catalogue_lacks_are_placed_by_the_features_the_tower_reads(
    trained_shop,
) -> None:
    model, catalogue, holdout = trained_shop
    truth, items = _item_table(model, catalogue, holdout)
    assert "brand" in model.candidate_feature_names  # the shop's tower reads the brand
    brands = np.asarray(holdout.item_values["brand"]).astype(str)
    items["brand"] = brands
    id_column = model.candidate_id_feature
    # Two new products of the first two labelled items' brands, twice each, nothing known;
    # the second two ids begin with the longest catalogue id: they must stay new ids.
    labelled = np.flatnonzero(~holdout.heldout)[:2]
    longest = max(np.asarray(catalogue[id_column]).astype(str), key=len)
    new = pd.DataFrame(
        {
            id_column: ["new-0", "new-1", f"{longest}-new-2", f"{longest}-new-3"],
            "category": None,
            "price": np.nan,
            "brand": [brands[labelled[0]], brands[labelled[1]]] * 2,
        }
    )
    alone = complete_attributes(model, catalogue, items)
    filled = complete_attributes(model, catalogue, pd.concat([items, new], ignore_index=True))
    # The catalogue's own gaps are filled as before: new rows carry no label to read.
    pd.testing.assert_frame_equal(filled.head(len(items)), alone)
    added = filled.tail(len(new)).reset_index(drop=True)
    assert added["category_completed"].all() and added["price_completed"].all()
    assert np.isfinite(added["price"].to_numpy(np.float64)).all()
    assert set(added["category"]) <= set(truth["category"])
    # The same features place two new items at the same point: the same completion.
    assert added["category"].tolist()[:2] == added["category"].tolist()[2:]
    # Their neighbours are the labelled items of their brand (each of the generator's
    # brands belongs to one category): the new items get their brand's category.
    assert added["category"].tolist()[:2] == truth["category"].to_numpy()[labelled].tolist()
    assert added["price"].tolist()[:2] == pytest.approx(added["price"].tolist()[2:], rel=1e-5)
    # Without the tower's features a new item cannot be placed: refused, naming them.
    with pytest.raises(ValueError, match=r"not in the catalogue.*lacks \['brand'\]"):
        complete_attributes(model, catalogue, new.drop(columns=["brand"]))
    # The shop's price is read by the ranking stack alone: a table without prices places new
    # items all the same, at the same points.
    assert "price" not in model.candidate_tower.encoded_feature_names
    unpriced = pd.concat([items, new], ignore_index=True).drop(columns=["price"])
    filled_unpriced = complete_attributes(model, catalogue, unpriced)
    assert filled_unpriced.tail(len(new))["category"].tolist() == added["category"].tolist()
