"""xgb_spacy on awkward data: no units at all, a brand seen only in the validation rows."""

import re

import numpy as np
from approach_models import new_model

from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.features.brands import RARE

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


def test_a_second_fit_on_the_same_fold_reads_its_feature_matrices_from_the_cache(demo_template, tmp_path):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    train, valid = dataset.train.iloc[:300], dataset.train.iloc[300:]
    first = fitted(train, dataset.spec, tmp_path)
    expected = first.predict(valid)
    assert first.transformers_fitted_

    second = fitted(train, dataset.spec, tmp_path)
    assert np.array_equal(second.predict(valid), expected)
    assert not second.transformers_fitted_  # neither the training nor the validation matrix was rebuilt
    unseen = second.predict(dataset.test)  # rows never seen: the transformers are fitted then
    assert second.transformers_fitted_
    assert np.allclose(unseen, first.predict(dataset.test))

    deeper = new_model("xgb_spacy", dataset.spec, tmp_path / "cache", [*FAST, "max_depth=3"])
    deeper.fit(train)
    assert not deeper.transformers_fitted_  # booster settings are not part of the features' key
    assert not np.array_equal(deeper.predict(valid), expected)
    fewer = new_model("xgb_spacy", dataset.spec, tmp_path / "cache", [*FAST, "svd_components=4"])
    fewer.fit(train)
    assert fewer.transformers_fitted_  # a feature setting is
