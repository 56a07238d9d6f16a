import pandas as pd

from catalog_ml import text
from catalog_ml.loading import load_dataset
from catalog_ml.spec import load_spec


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
