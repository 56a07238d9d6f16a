import numpy as np
import pandas as pd
import pytest
from approach_models import new_model

from catalog_ml.core.metrics import smape
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError


def image_only_model(dataset, table_path, tmp_path, extra=()):
    overrides = ["inputs=image", f"image_embeddings={table_path}", "max_epochs=40", "patience=40", *extra]
    return new_model("mlp_fusion", dataset.spec, tmp_path / "cache", overrides)


def photo_table(ids: pd.Series, signal: np.ndarray, seed: int, width: int = 4) -> pd.DataFrame:
    """``width`` embedding columns: the first carries ``signal`` (the rest are noise)."""
    noise = np.random.default_rng(seed).normal(size=(len(ids), width))
    noise[:, 0] += signal
    table = pd.DataFrame(noise, columns=[f"img_{i}" for i in range(width)])
    table.insert(0, "id", ids.to_numpy())
    return table


@pytest.mark.parametrize("width, components", [(4, 128), (64, 8)])  # 64 -> 8: PCA fitted on the fold's photos
def test_image_embeddings_carry_their_signal_and_rows_without_a_photo_still_get_a_price(demo_template, tmp_path,
                                                                                          width, components):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    id_column = dataset.spec.id_column
    train, valid = dataset.train.iloc[:300], dataset.train.iloc[300:]
    log_price = np.log1p(dataset.target.to_numpy(dtype=float))
    with_photo = np.arange(len(dataset.train)) % 4 != 0  # a quarter of the rows have no photo
    ids = dataset.train[id_column][with_photo]
    scores = {}
    for name, signal in {"informative": 3 * (log_price[with_photo] - log_price.mean()),
                         "noise": np.zeros(with_photo.sum())}.items():
        path = tmp_path / f"{name}.parquet"
        photo_table(ids, signal, seed=0, width=width).to_parquet(path)
        model = image_only_model(dataset, path, tmp_path, [f"image_components={components}"])
        model.fit(train)
        assert (model.image_pca_ is not None) == (width > components)
        predictions = model.predict(valid)
        assert np.isfinite(predictions).all() and (predictions > 0).all()
        photographed = with_photo[300:]
        scores[name] = smape(dataset.target.iloc[300:].to_numpy()[photographed], predictions[photographed])
    assert scores["informative"] < 0.7 * scores["noise"], scores


def test_image_inputs_need_a_table_whose_ids_match(demo_template, tmp_path):
    dataset = load_dataset(load_spec(demo_template / "dataset.yaml"))
    no_table = new_model("mlp_fusion", dataset.spec, tmp_path, ["inputs=image"])
    with pytest.raises(CatalogError, match="inputs=image needs"):
        no_table.fit(dataset.train)
    other = tmp_path / "other.parquet"
    photo_table("other-" + dataset.train[dataset.spec.id_column].astype(str), 0.0, seed=1).to_parquet(other)
    with pytest.raises(CatalogError, match="embedding ids do not match the data"):
        image_only_model(dataset, other, tmp_path).fit(dataset.train)
