"""xgb_spacy on awkward data: no units at all, a brand seen only in the validation rows."""

import re

import numpy as np
from approach_models import new_model

from catalog_ml.brands import RARE
from catalog_ml.loading import load_dataset
from catalog_ml.spec import load_spec

FAST = ["max_rounds=60", "svd_components=8", "sentence_components=4"]


def fitted(train, spec, tmp_path):
    model = new_model("xgb_spacy", spec, tmp_path / "cache", FAST)
    model.fit(train)
    return model


def test_all_missing_units_and_validation_only_brand(demo_template, tmp_path):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    train = dataset.train.copy()
    train["catalog_content"] = train["catalog_content"].map(
        lambda text: re.sub(r"^(Value|Unit):.*$", "", text, flags=re.MULTILINE))
    model = fitted(train.iloc[:300], dataset.spec, tmp_path)
    valid = train.iloc[300:].copy()
    valid["catalog_content"] = "Item Name: Zyxqwbrand Deluxe Kettle 1.5 l\n" + valid["catalog_content"]
    prices = model.predict(valid)
    assert np.isfinite(prices).all() and (prices > 0).all()
    brands = model.brands_.transform(["Zyxqwbrand Deluxe Kettle 1.5 l"])
    assert brands[0] == RARE  # a brand never seen in training gets no value of its own
