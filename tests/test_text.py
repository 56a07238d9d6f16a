import numpy as np
import pandas as pd

from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.features import text


def test_quantities_of_the_same_texts_are_parsed_once_and_follow_the_frame_index(demo_spec_path, monkeypatch):
    dataset = load_dataset(load_spec(demo_spec_path))
    parses = []
    original = text.parse_catalog_frame
    monkeypatch.setattr(text, "parse_catalog_frame", lambda texts: parses.append(len(texts)) or original(texts))
    monkeypatch.setattr(text, "_quantity_memo", type(text._quantity_memo)())
    train = dataset.train.iloc[:50]
    first = text.quantity_features(train, dataset.spec)
    first["log_value"] = -1.0  # a caller changing its copy must not change what the next caller gets
    second = text.quantity_features(train.set_axis(train.index + 1000), dataset.spec)
    assert parses == [50]
    assert list(second.index) == list(train.index + 1000)
    assert (second["log_value"] >= 0).all() and second["log_value"].gt(0).any()
    other = dataset.train.iloc[50:80]
    assert len(text.quantity_features(other, dataset.spec)) == 30 and parses == [50, 30]
    for start in range(3):  # three other frames push the first out of the memo
        text.quantity_features(dataset.train.iloc[100 + 10 * start:110 + 10 * start], dataset.spec)
    text.quantity_features(train, dataset.spec)
    assert parses[-1] == 50 and len(parses) == 6
    pd.testing.assert_frame_equal(text.quantity_features(train, dataset.spec), second.set_axis(train.index))


def _book_frame(ratings: list[str], synopsis: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"id": range(len(ratings)), "Ratings": ratings, "Synopsis": synopsis, "price": 10.0})


def _book_spec():
    from catalog_ml.data.spec import spec_from_mapping

    return spec_from_mapping({"name": "books", "id_column": "id", "target": "price",
                              "text_columns": ["Ratings", "Synopsis"]})


def test_numbers_of_short_text_columns_are_read_as_magnitudes_and_long_columns_are_left_to_tfidf():
    long_text = "A tale of 2 cities, first printed in 1859, and of the 3 friends who " * 3
    train = _book_frame(["8 customer reviews", "1,234 customer reviews", "no reviews yet", "4.5 of 5, 2016"],
                        [long_text] * 4)
    numbers = text.TextNumbers.fit(train, _book_spec())
    assert numbers.columns == ("Ratings",)
    raw = numbers.raw(train)
    assert raw["Ratings:first_number"].tolist()[:2] == [8.0, 1234.0] and np.isnan(raw["Ratings:first_number"][2])
    assert raw["Ratings:last_number"].tolist()[3] == 2016.0
    assert raw["Ratings:numbers"].tolist() == [1.0, 1.0, 0.0, 3.0]
    scaled = numbers.scaled(train)
    assert scaled.notna().all().all()
    assert scaled["none:Ratings:first_number"].tolist() == [0.0, 0.0, 1.0, 0.0]
    np.testing.assert_allclose(scaled["Ratings:first_number"][:2], np.log1p([8.0, 1234.0]))


def test_the_columns_chosen_on_training_rows_apply_to_any_later_frame():
    train = _book_frame(["8 customer reviews", "12 customer reviews"], ["short", "text"])
    numbers = text.TextNumbers.fit(train, _book_spec())
    later = _book_frame(["a much longer review line with no digits at all, many times over", "9" * 400], [None, ""])
    assert numbers.columns == ("Ratings",)  # Synopsis holds no digits
    assert list(numbers.raw(later).columns) == list(numbers.raw(train).columns)
    assert numbers.raw(later)["Ratings:numbers"].tolist() == [0.0, 1.0]
    assert np.isfinite(numbers.scaled(later).to_numpy()).all()
    assert text.TextNumbers.fit(train.iloc[:0], _book_spec()).columns == ()
