import numpy as np
import pytest
from approach_models import new_model
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog_ml.core.metrics import smape
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec


@pytest.fixture(scope="module")
def dataset(demo_template):
    return load_dataset(load_spec(demo_template / "dataset.yaml"))


def test_it_learns_prices_from_the_sparse_text_better_than_the_median(dataset, tmp_path):
    train, valid = dataset.train.iloc[:300], dataset.train.iloc[300:]
    model = new_model("sparse_mlp", dataset.spec, tmp_path, ["models=1"])
    model.fit(train)
    predictions = model.predict(valid)
    truth = valid[dataset.spec.target].to_numpy(dtype=float)
    median = np.full(len(valid), np.median(train[dataset.spec.target]))
    assert np.isfinite(predictions).all() and (predictions > 0).all()
    assert smape(truth, predictions) < 0.75 * smape(truth, median)


def test_its_networks_are_seeded_one_apart_and_averaged_in_log_price(dataset, tmp_path):
    train, valid = dataset.train.iloc[:200], dataset.train.iloc[200:260]

    def fitted(models: int, seed: int):
        model = new_model("sparse_mlp", dataset.spec, tmp_path, [f"models={models}", "epochs=2"], seed=seed)
        model.fit(train)
        return np.log1p(model.predict(valid))

    single = [fitted(1, seed) for seed in (7, 8)]
    assert np.abs(single[0] - single[1]).max() > 1e-4  # different seeds, different networks
    np.testing.assert_allclose(fitted(2, 7), (single[0] + single[1]) / 2, atol=1e-5)


def test_the_l1_loss_keeps_typical_prices_when_a_few_training_prices_are_absurd(dataset, tmp_path):
    train, valid = dataset.train.iloc[:300].copy(), dataset.train.iloc[300:]
    target = dataset.spec.target
    absurd = np.arange(len(train)) % 12 == 0  # one training row in twelve priced a thousand times too high
    train.loc[absurd, target] = train.loc[absurd, target] * 1000
    truth = valid[target].to_numpy(dtype=float)
    scores = {}
    for loss in ("l1", "mse"):
        model = new_model("sparse_mlp", dataset.spec, tmp_path, [f"loss={loss}", "models=1"])
        model.fit(train)
        scores[loss] = smape(truth, model.predict(valid))
    assert scores["l1"] < 0.8 * scores["mse"], scores


def test_it_reads_the_tfidf_that_tfidf_ridge_fitted_on_the_same_fold(dataset, tmp_path, monkeypatch):
    train = dataset.train.iloc[:200]
    fits = []
    original = TfidfVectorizer.fit_transform
    monkeypatch.setattr(TfidfVectorizer, "fit_transform",
                        lambda self, *a, **k: fits.append(1) or original(self, *a, **k))
    new_model("tfidf_ridge", dataset.spec, tmp_path).fit(train)
    assert len(fits) == 2  # word and character n-grams
    new_model("sparse_mlp", dataset.spec, tmp_path, ["models=1", "epochs=1"]).fit(train)
    assert len(fits) == 2
