"""``Predictor``: fit on a DataFrame, leaderboard, predict and predict_proba indexed like the input, save and load,
and one clear error for each misuse."""

import numpy as np
import pandas as pd
import pytest

from catalog_ml.api import Predictor
from catalog_ml.errors import CatalogError


@pytest.fixture(scope="module")
def tables(demo_template):
    train = pd.read_csv(demo_template / "train.csv")
    test = pd.read_csv(demo_template / "test.csv")
    return train, test


@pytest.fixture(scope="module")
def fitted(tables, tmp_path_factory):
    train, _ = tables
    predictor = Predictor(label="price", id_column="sample_id", text=["catalog_content"],
                          text_format="catalog_content", path=tmp_path_factory.mktemp("api") / "model")
    return predictor.fit(train, approaches=["median_baseline", "tfidf_ridge"], n_folds=3, progress=False)


def test_leaderboard_has_each_approach_and_the_honest_blend(fitted):
    board = fitted.leaderboard()
    assert list(board.columns) == ["model", "smape", "standard_error", "fit_seconds", "predict_seconds"]
    assert list(board["model"][:2]) == ["median_baseline", "tfidf_ridge"] and board["model"][2].startswith("blend")
    assert board["smape"][1] < board["smape"][0] and (board["standard_error"] > 0).all()


def test_predict_is_indexed_like_the_input_and_survives_save_and_load(fitted, tables, tmp_path):
    _, test = tables
    shuffled = test.sample(frac=1.0, random_state=0).set_index(pd.Index(range(1000, 1000 + len(test))))
    prices = fitted.predict(shuffled)
    assert list(prices.index) == list(shuffled.index) and (prices > 0).all()
    in_order = fitted.predict(test)
    np.testing.assert_allclose(prices.sort_values().to_numpy(), in_order.sort_values().to_numpy(), rtol=1e-12)
    copy = fitted.save(tmp_path / "copy")
    pd.testing.assert_series_equal(copy.predict(test), in_order)
    pd.testing.assert_series_equal(Predictor.load(tmp_path / "copy").predict(test), in_order)
    pd.testing.assert_frame_equal(copy.leaderboard(), fitted.leaderboard())


def test_classification_predict_proba_gives_one_column_per_class(demo_template, tmp_path):
    train = pd.read_csv(demo_template / "train_category.csv")
    test = pd.read_csv(demo_template / "test.csv")
    predictor = Predictor(label="category", id_column="sample_id", text=["catalog_content"], task="classification",
                          path=tmp_path / "classes")
    predictor.fit(train, approaches=["tfidf_ridge"], n_folds=3, progress=False)
    proba = predictor.predict_proba(test)
    assert proba.shape == (len(test), train["category"].nunique())
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (predictor.predict(test).to_numpy() == proba.idxmax(axis=1).to_numpy()).all()


def test_misuse_is_one_clear_error(fitted, tables, tmp_path):
    train, test = tables
    fresh = Predictor(label="price", text=["catalog_content"], path=tmp_path / "fresh")
    with pytest.raises(CatalogError, match="not fitted yet"):
        fresh.predict(test)
    with pytest.raises(CatalogError, match="unknown approach 'tfidf_rdge'.*did you mean 'tfidf_ridge'"):
        fresh.fit(train, approaches=["tfidf_rdge"])
    with pytest.raises(CatalogError, match="settings for approach"):
        fresh.fit(train, approaches=["tfidf_ridge"], settings={"lgbm_fusion": {"num_leaves": 7}})
    with pytest.raises(CatalogError, match="fitted for regression"):
        fitted.predict_proba(test)
    with pytest.raises(CatalogError, match="missing column"):
        fitted.predict(test.drop(columns=["catalog_content"]))
    with pytest.raises(CatalogError, match="not a fitted predictor folder"):
        Predictor.load(tmp_path / "nowhere")
    with pytest.raises(CatalogError, match="already exists"):
        fitted.save(tmp_path)


def test_a_table_without_ids_uses_row_numbers(tables, tmp_path):
    train, test = tables
    predictor = Predictor(label="price", text=["catalog_content"], path=tmp_path / "no_ids")
    predictor.fit(train.drop(columns=["sample_id"]), approaches=["median_baseline"], n_folds=2, progress=False)
    prices = predictor.predict(test.drop(columns=["sample_id"]).set_index(pd.Index(range(5, 5 + len(test)))))
    assert list(prices.index) == list(range(5, 5 + len(test)))
    assert prices.nunique() == 1 and prices.iloc[0] == pytest.approx(train["price"].median(), rel=0.2)
