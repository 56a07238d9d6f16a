"""Saved models and ``catalog-ml predict``: reproduce the run's and the blend's test predictions from the saved files
without fitting, and refuse every broken input in one line with nothing written."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from catalog_ml.api.predicting import LoadedBlend, LoadedRun, read_new_table
from catalog_ml.cli.main import main
from catalog_ml.core.fitted_state import EncodedState, decode_state, encode_state
from catalog_ml.core.registry import approach_names, get_approach
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError

RUNS = ("median_baseline", "tfidf_ridge", "lgbm_fusion")


@pytest.fixture(scope="module")
def fitted(demo_template, tmp_path_factory):
    """Three complete runs on the demo data (lgbm_fusion also with its full fit) and their stacked-GBM blend."""
    root = tmp_path_factory.mktemp("fitted")
    spec, runs = str(demo_template / "dataset.yaml"), root / "runs"
    for name in RUNS:
        assert main(["run", name, "--dataset", spec, "--runs-dir", str(runs), "--cache-dir", str(root / "cache")]) == 0
    assert main(["run", "lgbm_fusion", "--fold", "-1", "--dataset", spec, "--runs-dir", str(runs),
                 "--cache-dir", str(root / "cache")]) == 0
    assert main(["blend", "--dataset", spec, "--runs-dir", str(runs), "--method", "stack", "--stack-model", "gbm",
                 "--submission", str(root / "submission.csv")]) == 0
    return root


@pytest.fixture()
def runs(fitted, tmp_path):
    """A private copy of the fitted runs that a test may break."""
    shutil.copytree(fitted / "runs", tmp_path / "runs")
    return tmp_path / "runs" / "demo"


def predict(tmp_path, source: list[str], table, out_name="out.csv"):
    out = tmp_path / out_name
    code = main(["predict", *source, str(table), "--out", str(out), "--cache-dir", str(tmp_path / "cache")])
    return code, out


def test_predict_reproduces_run_full_fit_and_blend_test_predictions_without_fitting(runs, demo_template, tmp_path,
                                                                                    monkeypatch, capsys):
    def no_fit(self, train, valid=None):
        raise AssertionError("predict fitted a model")

    for name in approach_names():
        monkeypatch.setattr(get_approach(name), "fit", no_fit)
    test_csv = demo_template / "test.csv"
    code, out = predict(tmp_path, ["--run", str(runs / "tfidf_ridge")], test_csv)
    assert code == 0
    table = pd.read_csv(out, dtype={"sample_id": str})
    stored = pd.read_parquet(runs / "tfidf_ridge" / "test.parquet")
    assert list(table.columns) == ["sample_id", "price"] and list(table["sample_id"]) == list(stored["id"])
    np.testing.assert_allclose(table["price"], stored["pred"], rtol=1e-9)
    full = pd.read_parquet(runs / "lgbm_fusion" / "test_full.parquet")["pred"].to_numpy()
    assert predict(tmp_path, ["--run", str(runs / "lgbm_fusion"), "--full"], test_csv, "full.parquet")[0] == 0
    np.testing.assert_allclose(pd.read_parquet(tmp_path / "full.parquet")["price"], full, rtol=1e-9)
    assert predict(tmp_path, ["--blend", str(runs / "_blend" / "stack")], test_csv, "blend.csv")[0] == 0
    blended = pd.read_csv(tmp_path / "blend.csv")["price"].to_numpy()
    np.testing.assert_allclose(blended, pd.read_parquet(runs / "_blend" / "stack" / "test.parquet")["pred"],
                               rtol=1e-9)
    assert "rows predicted" in capsys.readouterr().out
    monkeypatch.undo()  # worker processes import the approaches afresh: the patched fit would not reach them
    assert predict(tmp_path, ["--blend", str(runs / "_blend" / "stack"), "--jobs", "2"], test_csv, "jobs.csv")[0] == 0
    np.testing.assert_allclose(pd.read_csv(tmp_path / "jobs.csv")["price"], blended, rtol=1e-9)


def test_new_table_extra_columns_are_ignored_and_reported_missing_ones_refused(runs, demo_template, tmp_path,
                                                                                capsys):
    test = pd.read_csv(demo_template / "test.csv")
    extra = tmp_path / "extra.csv"
    test.assign(note="x", price=1.0).to_csv(extra, index=False)
    assert predict(tmp_path, ["--run", str(runs / "tfidf_ridge")], extra)[0] == 0
    assert "not read by the model ignored: note, price" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    test.drop(columns=["catalog_content"]).to_csv(missing, index=False)
    code, out = predict(tmp_path, ["--run", str(runs / "tfidf_ridge")], missing, "missing_out.csv")
    assert code == 2 and not out.exists()


@pytest.mark.parametrize("change, message", [
    (lambda t: t.assign(sample_id=["same"] * len(t)), "duplicate ids"),
    (lambda t: t.assign(sample_id=[f"../{i}" for i in range(len(t))]), "path separator"),
    (lambda t: t.head(0), "no data rows"),
])
def test_bad_rows_in_the_new_table_are_refused_with_nothing_written(runs, demo_template, tmp_path, capsys, change,
                                                                    message):
    table = tmp_path / "new.csv"
    change(pd.read_csv(demo_template / "test.csv")).to_csv(table, index=False)
    code, out = predict(tmp_path, ["--run", str(runs / "tfidf_ridge")], table)
    assert code == 2 and not out.exists()
    assert message in capsys.readouterr().err


def _break_truncate(folder):
    state = folder / "arrays.npz"
    state.write_bytes(state.read_bytes()[:100])


def _break_manifest(key, value):
    def change(folder):
        manifest = json.loads((folder / "manifest.json").read_text())
        if key == "libraries":
            manifest["libraries"]["scikit-learn"] = value
        else:
            manifest[key] = value
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return change


@pytest.mark.parametrize("breaking, message", [
    (lambda folder: (folder / "arrays.npz").unlink(), "saved model file missing"),
    (_break_truncate, "altered or truncated"),
    (lambda folder: (folder / "state.json").write_text("{}"), "altered or truncated"),
    (lambda folder: (folder / "manifest.json").unlink(), "no saved model"),
    (_break_manifest("format", 99), "format 99"),
    (_break_manifest("libraries", "0.1.0"), "scikit-learn 0.1.0"),
    (_break_manifest("approach", "median_baseline"), "holds a model of approach 'median_baseline'"),
])
def test_broken_or_foreign_saved_models_are_refused(runs, demo_template, tmp_path, capsys, breaking, message):
    breaking(runs / "tfidf_ridge" / "models" / "fold_1")
    code, out = predict(tmp_path, ["--run", str(runs / "tfidf_ridge")], demo_template / "test.csv")
    assert code == 2 and not out.exists()
    assert message in capsys.readouterr().err


def test_blend_with_a_deleted_member_run_is_refused(runs, demo_template, tmp_path, capsys):
    shutil.rmtree(runs / "lgbm_fusion")
    code, out = predict(tmp_path, ["--blend", str(runs / "_blend" / "stack")], demo_template / "test.csv")
    assert code == 2 and not out.exists()
    assert "member run 'lgbm_fusion' is missing" in capsys.readouterr().err


def test_run_without_saved_models_says_how_to_get_them(demo_dir, tmp_path, capsys):
    spec, runs = str(demo_dir / "dataset.yaml"), tmp_path / "runs"
    assert main(["run", "median_baseline", "--dataset", spec, "--runs-dir", str(runs), "--no-save-models"]) == 0
    assert not (runs / "demo" / "median_baseline" / "models").exists()
    code, _ = predict(tmp_path, ["--run", str(runs / "demo" / "median_baseline")], demo_dir / "test.csv")
    assert code == 2
    assert "no saved model" in capsys.readouterr().err


def test_forest_trees_go_through_skops_and_a_text_network_column_through_the_torch_codec(demo_template, tmp_path):
    categories = str(demo_template / "dataset_category.yaml")
    assert main(["run", "classical_baselines", "--dataset", categories, "--runs-dir", str(tmp_path / "runs"),
                 "--set", "model=random_forest", "--set", "trees=20", "--folds", "0"]) == 0
    prices = str(demo_template / "dataset.yaml")
    assert main(["run", "lgbm_fusion", "--dataset", prices, "--runs-dir", str(tmp_path / "runs"), "--set",
                 "text_network=true", "--folds", "0", "--cache-dir", str(tmp_path / "cache")]) == 0
    for run, spec in (("demo_category/classical_baselines", categories), ("demo/lgbm_fusion", prices)):
        assert any(p.suffix == ".skops" for p in (tmp_path / "runs" / run / "models" / "fold_0").iterdir()) == (
            "classical" in run)
        loaded = LoadedRun(tmp_path / "runs" / run, tmp_path / "cache", require_complete=False)
        dataset = load_dataset(load_spec(spec))
        predicted = loaded.predict(read_new_table(dataset.spec.test_path, loaded.spec))
        stored = pd.read_parquet(tmp_path / "runs" / run / "test.parquet")
        expected = stored["pred"].to_numpy() if "classical" not in run else stored.filter(like="proba:").to_numpy()
        np.testing.assert_allclose(predicted, expected, rtol=1e-9)


@pytest.mark.parametrize("node", [
    {"$": "object", "class": "os:system", "state": {}},
    {"$": "object", "class": "subprocess:Popen", "state": {}},
    {"$": "object", "class": "catalog_ml.core.approach:Approach.fit", "state": {}},
    {"$": "type", "name": "builtins.eval"},
    {"$": "random", "legacy": False, "state": {"$": "dict", "kind": "dict", "items": [["bit_generator", "os"]]}},
    {"$": "torch_module", "class": "torch.serialization:load", "training": False, "attributes": {},
     "parameters": {}, "buffers": {}, "non_persistent": [], "children": {}},
])
def test_loading_builds_only_allowed_classes(node, demo_template):
    import catalog_ml.api  # noqa: F401  (registers the torch codec)

    spec = load_spec(demo_template / "dataset.yaml")
    with pytest.raises(CatalogError, match="not allowed|not a class|not a torch module"):
        decode_state(EncodedState(node), spec)


def test_values_that_cannot_be_saved_safely_are_named():
    with pytest.raises(CatalogError, match=r"model\['hook'\]: a builtins.function cannot be saved"):
        encode_state({"hook": lambda: 1})
    class Local:
        pass

    with pytest.raises(CatalogError, match=r"model\['local'\]: a test_predict.*Local cannot be saved safely"):
        encode_state({"local": Local()})


def test_codec_round_trips_the_value_kinds_models_hold(demo_template):
    import scipy.sparse as sp

    spec = load_spec(demo_template / "dataset.yaml")
    value = {
        "floats": np.arange(6, dtype=np.float32).reshape(2, 3).T, "names": np.array(["a", "b"], dtype=object),
        "mixed": np.array(["a", None], dtype=object), "matrix": sp.random(5, 4, density=0.5, format="csr"),
        "table": pd.DataFrame({"x": [1.5, None], "y": ["a", "b"]}), "index": pd.Index(["p", "q"], name="n"),
        "vocabulary": {"a": np.int64(1), "b": np.int64(2)}, "nested": (1, {2: "two"}, {3}, None, float("nan")),
        "spec": spec, "dtype": np.float32, "rng": np.random.default_rng(7), "scalar": np.float64(0.1),
    }
    state = encode_state(value)
    assert "spec" not in json.dumps(state.tree["items"][10] if isinstance(state.tree, list) else "")
    back = decode_state(EncodedState(state.tree, state.arrays, state.files), spec)
    assert back["floats"].flags["F_CONTIGUOUS"] and np.array_equal(back["floats"], value["floats"])
    assert back["names"].dtype == object and list(back["names"]) == ["a", "b"]
    assert list(back["mixed"]) == ["a", None]
    assert (back["matrix"] != value["matrix"]).nnz == 0
    pd.testing.assert_frame_equal(back["table"], value["table"])
    pd.testing.assert_index_equal(back["index"], value["index"])
    assert back["vocabulary"] == value["vocabulary"] and isinstance(back["vocabulary"]["a"], np.integer)
    assert back["nested"][:4] == (1, {2: "two"}, {3}, None) and np.isnan(back["nested"][4])
    assert back["spec"] is spec and back["dtype"] is np.float32 and back["scalar"] == np.float64(0.1)
    assert back["rng"].random() == np.random.default_rng(7).random()


def test_loaded_blend_predicts_a_dataframe_given_in_memory(runs, demo_template):
    loaded = LoadedBlend(runs / "_blend" / "stack")
    frame = pd.read_csv(demo_template / "test.csv").head(7)
    predicted = loaded.predict(read_new_table(frame, loaded.spec))
    stored = pd.read_parquet(runs / "_blend" / "stack" / "test.parquet")["pred"].to_numpy()[:7]
    np.testing.assert_allclose(predicted, stored, rtol=1e-6)
