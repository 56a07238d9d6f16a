import numpy as np
import pytest
from approach_models import new_model

from catalog_ml.errors import CatalogError
from catalog_ml.grouping import item_names, normalise_name
from catalog_ml.loading import load_dataset
from catalog_ml.spec import load_spec


@pytest.mark.parametrize("space", ["tfidf", "embedding"])
def test_training_rows_never_use_their_own_name_group_as_neighbours(demo_template, tmp_path, space):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    model = new_model("knn_price", dataset.spec, tmp_path / "cache", [f"spaces={space}"])
    model.fit(dataset.train)
    names = item_names(dataset.train, dataset.spec).map(normalise_name).to_numpy()
    matrix = model._vectors(dataset.train)
    repeated = np.flatnonzero(np.array([(names == n).sum() > 1 for n in names]))
    assert len(repeated) > 0
    unguarded = model._features(dataset.train, matrix, exclude_names=None)
    assert np.any(unguarded[repeated, 3] >= 0.999)  # without the guard, rows find themselves
    features = model._features(dataset.train, matrix, exclude_names=names)
    assert np.all(features[repeated, 3] < 0.999)  # best similarity: never the row itself or its same-name twin
    predictions = model.predict(dataset.test)
    assert np.isfinite(predictions).all() and (predictions > 0).all()


def test_unknown_space_is_refused(demo_template, tmp_path):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    model = new_model("knn_price", dataset.spec, tmp_path, ["spaces=pixels"])
    with pytest.raises(CatalogError, match="spaces must be"):
        model.fit(dataset.train)
