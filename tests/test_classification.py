"""``task: classification`` through the whole pipeline: labels, folds, every classifying approach, reports, blend."""

import logging

import numpy as np
import pandas as pd
import pytest
import yaml

from catalog_ml.api.predicting import LoadedRun, read_new_table
from catalog_ml.cli.main import main
from catalog_ml.core.config import build_config
from catalog_ml.core.registry import approach_names, get_approach
from catalog_ml.core.runner import RunRequest, run_approach
from catalog_ml.data.classes import PROBA_PREFIX, read_proba, spread_proba
from catalog_ml.data.folds import load_folds, make_folds, write_folds
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec

CLASSIFIERS = [n for n in approach_names() if "classification" in get_approach(n).tasks]


@pytest.fixture(scope="module")
def categories(demo_template):
    return load_dataset(load_spec(demo_template / "dataset_category.yaml"))


def test_every_cpu_approach_family_classifies():
    assert {"median_baseline", "tfidf_ridge", "classical_baselines", "lgbm_fusion", "knn_price",
            "mlp_fusion"} <= set(CLASSIFIERS)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_classification_contract(name, categories, tmp_path):
    approach = get_approach(name)
    tiny = list(getattr(approach, "tiny_settings", ()))  # deep approaches: random tiny towers, 2 epochs
    config = build_config(approach.Config, overrides=tiny)
    # the regression contract already checks the deep approaches' determinism: one run each here
    results = [run_approach(categories, RunRequest(approach=approach, config=config, output_root=tmp_path / f"r{i}",
                                                   cache_dir=tmp_path / "cache", progress=False, folds=(0,),
                                                   seed=5, save_models=True))
               for i in range(1 if tiny else 2)]
    oof, test = pd.read_parquet(results[0].paths.oof), pd.read_parquet(results[0].paths.test)
    for frame in (oof, test):
        proba = read_proba(frame, categories.classes, "output")
        assert proba.shape[1] == len(categories.classes) == 10
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-9)
        assert (proba >= 0).all()
        assert (frame["pred"].to_numpy() == np.asarray(categories.classes)[proba.argmax(axis=1)]).all()
    assert list(test["id"]) == list(categories.test["sample_id"])
    scores = results[0].scores.set_index("fold")
    assert {"accuracy", "macro_f1", "weighted_f1", "log_loss"} <= set(scores.columns)
    if name != "median_baseline" and not tiny:
        assert scores.loc["0", "accuracy"] > 0.5  # the demo's categories are written in its text
    if not tiny:
        pd.testing.assert_frame_equal(oof, pd.read_parquet(results[1].paths.oof))
    loaded = LoadedRun(results[0].paths.root, tmp_path / "cache", require_complete=False)
    predicted = loaded.predict(read_new_table(categories.spec.test_path, loaded.spec))
    np.testing.assert_allclose(predicted, read_proba(test, categories.classes, "output"), rtol=1e-9, atol=1e-15)


def test_complete_run_writes_per_class_table_and_confusion_png(categories, tmp_path):
    approach = get_approach("tfidf_ridge")
    result = run_approach(categories, RunRequest(approach=approach, config=approach.Config(),
                                                 output_root=tmp_path, progress=False))
    per_class = pd.read_csv(result.paths.root / "per_class.csv")
    assert sorted(per_class["class"]) == list(categories.classes)
    assert per_class["support"].sum() == len(categories.train)
    assert (result.paths.root / "confusion.png").read_bytes()[:4] == b"\x89PNG"
    accuracy = result.scores.set_index("fold").loc["all", "accuracy"]
    # 8% of the demo's category labels are wrong on purpose: accuracy stays near 0.92, log-loss far below ln 10
    assert accuracy > 0.88 and result.scores.set_index("fold").loc["all", "log_loss"] < 0.8


def _category_table(demo_template, tmp_path, mutate) -> pd.DataFrame:
    spec = yaml.safe_load((demo_template / "dataset_category.yaml").read_text())
    train = pd.read_csv(demo_template / "train_category.csv")
    train = mutate(train)
    train.to_csv(tmp_path / "train_category.csv", index=False)
    (tmp_path / "test.csv").write_text((demo_template / "test.csv").read_text())
    spec.update(image_dir=None, image_column=None)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump(spec))
    return train


def test_labels_with_spaces_and_mixed_case_are_merged_and_reported(demo_template, tmp_path, caplog):
    def mess(train: pd.DataFrame) -> pd.DataFrame:
        train.loc[:30, "category"] = "  " + train.loc[:30, "category"].str.upper() + " "
        return train

    _category_table(demo_template, tmp_path, mess)
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(load_spec(tmp_path / "spec.yaml"))
    assert len(dataset.classes) == 10 and all(c == c.strip() and c.islower() for c in dataset.classes)
    assert "spaces" in caplog.text and "differed only in case" in caplog.text


def test_single_row_class_is_reported_and_its_fold_model_gives_it_zero(demo_template, tmp_path, caplog):
    def add_singleton(train: pd.DataFrame) -> pd.DataFrame:
        train.loc[0, "category"] = "rare_thing"
        return train

    _category_table(demo_template, tmp_path, add_singleton)
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(load_spec(tmp_path / "spec.yaml"))
    assert "single row" in caplog.text and "rare_thing" in dataset.classes
    write_folds(make_folds(dataset, n_folds=3, seed=0, use_images=False), dataset.spec.folds_path, {})
    folds = load_folds(dataset)
    assert set(np.unique(folds.fold)) == {0, 1, 2}
    approach = get_approach("tfidf_ridge")
    run_approach(dataset, RunRequest(approach=approach, config=approach.Config(), output_root=tmp_path / "runs",
                                     progress=False))
    oof = pd.read_parquet(tmp_path / "runs" / dataset.spec.name / "tfidf_ridge" / "oof.parquet")
    row = oof[oof["id"].astype(str) == str(dataset.train.loc[0, "sample_id"])]
    assert float(row[f"{PROBA_PREFIX}rare_thing"].iloc[0]) == 0.0  # never seen by the model that scores it


def test_more_than_a_thousand_classes_work_and_memory_is_reported(tmp_path, caplog):
    rng = np.random.default_rng(0)
    labels = [f"class_{i:04d}" for i in range(1200)] * 3
    frame = pd.DataFrame({"id": range(len(labels)), "title": [f"item {c} {rng.integers(99)}" for c in labels],
                          "label": labels})
    frame.to_csv(tmp_path / "train.csv", index=False)
    (tmp_path / "spec.yaml").write_text(yaml.safe_dump({
        "name": "many", "id_column": "id", "target": "label", "task": "classification", "text_columns": ["title"],
        "test_file": None}))
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(load_spec(tmp_path / "spec.yaml"))
    assert len(dataset.classes) == 1200 and "MB per" in caplog.text
    write_folds(make_folds(dataset, n_folds=3, seed=0, use_images=False), dataset.spec.folds_path, {})
    approach = get_approach("median_baseline")
    result = run_approach(dataset, RunRequest(approach=approach, config=approach.Config(),
                                              output_root=tmp_path / "runs", progress=False))
    assert result.complete and pd.read_parquet(result.paths.oof).shape == (3600, 3 + 1200)


def test_spread_proba_places_columns_of_seen_classes():
    full = spread_proba(np.array([[0.25, 0.75]]), np.array([0, 2]), 3)
    np.testing.assert_array_equal(full, [[0.25, 0.0, 0.75]])


def test_probability_blend_is_nested_and_writes_a_label_submission(demo_template, categories, tmp_path, capsys):
    spec = str(demo_template / "dataset_category.yaml")
    runs = tmp_path / "runs"
    for name, extra in (("median_baseline", []), ("knn_price", ["--set", "spaces=tfidf"]),
                        ("classical_baselines", ["--set", "model=naive_bayes"])):
        assert main(["run", name, "--dataset", spec, "--runs-dir", str(runs), *extra]) == 0
    submission = tmp_path / "labels.csv"
    for method in ("optuna", "stack", "auto"):
        assert main(["blend", "--dataset", spec, "--runs-dir", str(runs), "--method", method, "--trials", "20",
                     "--objective", "log_loss", "--submission", str(submission),
                     "--out-dir", str(tmp_path / method)]) == 0
    printed = capsys.readouterr().out
    assert "honest nested: accuracy" in printed
    labels = pd.read_csv(submission)
    test = pd.read_csv(demo_template / "test.csv")
    truth = pd.read_csv(demo_template / "test_labels.csv").set_index("sample_id").loc[labels["sample_id"],
                                                                                      "category"]
    assert list(labels.columns) == ["sample_id", "category"] and len(labels) == len(test)
    assert (labels["category"].to_numpy() == truth.to_numpy()).mean() > 0.9  # hidden test labels
    weights = pd.read_csv(tmp_path / "optuna" / "weights.csv")
    assert weights["weight"].sum() == pytest.approx(1.0)
    table = pd.read_csv(tmp_path / "optuna" / "fold_scores.csv")
    assert table["blend"].iloc[-1] <= table["median_baseline"].iloc[-1]  # log-loss: below the prior's
    assert (tmp_path / "stack" / "confusion.png").is_file()
    predicted = tmp_path / "predicted.csv"
    assert main(["predict", "--blend", str(tmp_path / "stack"), str(demo_template / "test.csv"),
                 "--out", str(predicted), "--cache-dir", str(tmp_path / "cache")]) == 0
    blended = pd.read_csv(predicted)
    stored = pd.read_parquet(tmp_path / "stack" / "test.parquet")
    assert list(blended["sample_id"].astype(str)) == list(stored["id"])
    np.testing.assert_allclose(blended[[f"proba:{c}" for c in categories.classes]].to_numpy(),
                               read_proba(stored, categories.classes, "blend"), rtol=1e-9)
    assert (blended["category"].to_numpy() == stored["pred"].to_numpy()).all()
    batch_file = tmp_path / "batch.csv"
    assert main(["rank-labels", "--dataset", spec, "--runs-dir", str(runs), "--batch", "15", "--uncertainty",
                 "margin", "--out", str(batch_file)]) == 0
    batch = pd.read_csv(batch_file)
    assert len(batch) == 15 and batch["id"].is_unique and set(batch["predicted_class"]) <= set(truth)
    assert batch["margin"].iloc[0] >= batch["margin"].median()  # the first pick is among the least certain


def test_price_only_blend_methods_are_refused_for_classes(demo_template, tmp_path, capsys):
    spec = str(demo_template / "dataset_category.yaml")
    runs = tmp_path / "runs"
    assert main(["run", "median_baseline", "--dataset", spec, "--runs-dir", str(runs)]) == 0
    assert main(["blend", "--dataset", spec, "--runs-dir", str(runs), "--method", "hill"]) == 2
    assert "classification blends use" in capsys.readouterr().err


def test_labelled_test_table_with_a_class_unseen_in_training_is_reported(demo_template, tmp_path, caplog):
    _category_table(demo_template, tmp_path, lambda train: train)
    test = pd.read_csv(demo_template / "test.csv")
    test["category"] = "coffee"
    test.loc[:4, "category"] = "Garden Tools"
    test.to_csv(tmp_path / "test.csv", index=False)
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(load_spec(tmp_path / "spec.yaml"))
    assert "Garden Tools" not in dataset.classes
    assert "5 test rows have a class absent from training (1 such" in caplog.text and "'Garden Tools'" in caplog.text
