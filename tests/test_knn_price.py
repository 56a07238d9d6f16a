import numpy as np
import pytest
from approach_models import new_model

from catalog_ml.data.grouping import item_names, normalise_name
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError


@pytest.mark.parametrize("space", ["tfidf", "embedding"])
def test_training_rows_never_use_their_own_name_group_as_neighbours(demo_template, tmp_path, space):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    model = new_model("knn_price", dataset.spec, tmp_path / "cache", [f"spaces={space}"])
    model.fit(dataset.train)
    names = item_names(dataset.train, dataset.spec).map(normalise_name).to_numpy()
    repeated = np.flatnonzero(np.array([(names == n).sum() > 1 for n in names]))
    assert len(repeated) > 0
    unguarded = model._features(dataset.train, exclude_names=None)
    assert np.any(unguarded[repeated, 3] >= 0.999)  # without the guard, rows find themselves
    features = model._features(dataset.train, exclude_names=names)
    assert np.all(features[repeated, 3] < 0.999)  # best similarity: never the row itself or its same-name twin
    predictions = model.predict(dataset.test)
    assert np.isfinite(predictions).all() and (predictions > 0).all()


def test_a_second_fit_on_the_same_fold_reads_its_neighbour_lists_from_the_cache(demo_template, tmp_path,
                                                                               monkeypatch):
    from catalog_ml.nn.neighbours import CosineNeighbours

    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    first = new_model("knn_price", dataset.spec, tmp_path / "cache")
    first.fit(dataset.train)
    expected = first.predict(dataset.test)
    searches = []
    original = CosineNeighbours.kneighbors
    monkeypatch.setattr(CosineNeighbours, "kneighbors", lambda self, q: searches.append(1) or original(self, q))
    second = new_model("knn_price", dataset.spec, tmp_path / "cache", ["gbm_iterations=300"])
    second.fit(dataset.train)
    assert np.array_equal(second.predict(dataset.test), expected)
    assert not searches and not second.indexes_  # no vocabulary fitted, no index built, no search run

    other = new_model("knn_price", dataset.spec, tmp_path / "cache")
    other.fit(dataset.train.iloc[1:])
    assert len(searches) == 2  # other training rows: the training rows searched again in both spaces
    other.predict(dataset.test)
    assert len(searches) == 4


def test_unknown_space_is_refused(demo_template, tmp_path):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    model = new_model("knn_price", dataset.spec, tmp_path, ["spaces=pixels"])
    with pytest.raises(CatalogError, match="spaces must be"):
        model.fit(dataset.train)
