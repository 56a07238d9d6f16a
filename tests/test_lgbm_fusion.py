import numpy as np
import pandas as pd
import pytest

from catalog_ml.core.config import build_config
from catalog_ml.core.registry import get_approach
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError
from catalog_ml.features.embedding_table import check_embedding_ids, embeddings_for


def run_with(dataset, tmp_path, table_path):
    approach = get_approach("lgbm_fusion")
    config = build_config(approach.Config, overrides=[f"image_embeddings={table_path}", "max_rounds=50"])
    return run_approach(dataset, RunRequest(approach=approach, config=config, output_root=tmp_path / "runs",
                                            folds=(0,), progress=False))


def test_image_embedding_table_is_used_and_checked(demo_spec_path, tmp_path):
    dataset = load_dataset(load_spec(demo_spec_path))
    ids = pd.concat([dataset.train["sample_id"], dataset.test["sample_id"]])
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(len(ids), 4)), columns=[f"e{i}" for i in range(4)])
    table.insert(0, "id", ids.to_numpy())
    good = tmp_path / "emb.parquet"
    table.iloc[5:].to_parquet(good)  # a few rows without an embedding are allowed
    result = run_with(dataset, tmp_path, good)
    assert np.isfinite(pd.read_parquet(result.paths.oof)["pred"]).all()

    wrong = tmp_path / "wrong.parquet"
    table.assign(id="other-" + table["id"]).to_parquet(wrong)
    with pytest.raises(CatalogError, match="embedding ids do not match the data"):
        run_with(dataset, tmp_path / "b", wrong)
    with pytest.raises(CatalogError, match="embedding table missing"):
        run_with(dataset, tmp_path / "c", tmp_path / "missing.parquet")


def test_embedding_ids_check_accepts_a_partial_photo_set_and_refuses_other_data(tmp_path):
    ids = pd.Series([f"p{i}" for i in range(1000)])
    table = pd.DataFrame({"img_0": np.ones(300, dtype=np.float32)}, index=ids.iloc[:300].to_numpy())
    check_embedding_ids(ids.iloc[:800], table, tmp_path / "photos.parquet")  # 30% of rows have photos: fine
    embedded = embeddings_for(ids.iloc[250:350], table)
    assert np.isfinite(embedded[:50]).all() and np.isnan(embedded[50:]).all()
    other = table.set_axis([f"x{i}" for i in range(300)])
    with pytest.raises(CatalogError, match="embedding ids do not match the data: only 0 of 800"):
        check_embedding_ids(ids.iloc[:800], other, tmp_path / "other.parquet")


def test_the_network_column_is_a_feature_and_a_second_fit_reads_it_from_the_cache(demo_spec_path, tmp_path,
                                                                                   monkeypatch):
    from approach_models import new_model

    from catalog_ml.nn import sparse_network
    dataset = load_dataset(load_spec(demo_spec_path))
    train, valid, unseen = dataset.train.iloc[:300], dataset.train.iloc[300:360], dataset.train.iloc[360:]
    trained = []
    original = sparse_network.train_sparse_network
    monkeypatch.setattr(sparse_network, "train_sparse_network", lambda *a, **k: trained.append(1) or original(*a, **k))
    overrides = ["text_network=true", "max_rounds=60"]
    first = new_model("lgbm_fusion", dataset.spec, tmp_path, overrides)
    first.fit(train)
    assert len(trained) == 4 + 1  # one network per inner fold (text_ridge_folds), then one on every training row
    explanation = first.explain(valid)
    names = explanation.feature_names
    assert names.index("text_network") == names.index("text_ridge") + 1
    assert explanation.gain[names.index("text_network")] > 0  # the booster splits on it

    second = new_model("lgbm_fusion", dataset.spec, tmp_path, overrides)
    second.fit(train)
    assert np.allclose(second.predict(valid), first.predict(valid))
    assert len(trained) == 4 + 1  # both columns (training rows, valid rows) read from the cache
    assert np.isfinite(second.predict(unseen)).all()
    assert len(trained) == 4 + 1 + 1  # the full network refitted once for rows it had not transformed
