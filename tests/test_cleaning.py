import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.clean import main as clean_main
from catalog_ml.cli.main import main
from catalog_ml.data.cleaning import CleaningRules, clean_training_rows, image_keys, resolved_price
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec


def test_resolved_price_rule():
    assert resolved_price(np.array([10.0, 10.0, 12.0])) == 10.0
    assert resolved_price(np.array([10.0, 12.0, 14.0])) == 12.0
    assert resolved_price(np.array([10.0, 10.0, 12.0, 14.0])) == 10.0  # the mode covers exactly half
    assert resolved_price(np.array([10.0, 10.0, 12.0, 14.0, 16.0])) == pytest.approx(12.4)


@pytest.fixture()
def dirty(demo_dir, demo_spec_path):
    train = pd.read_csv(demo_dir / "train.csv", dtype={"sample_id": str})
    copy = train.iloc[[0]].assign(sample_id="dup-1")                       # exact duplicate but for the id
    conflict = train.iloc[[1]].assign(sample_id="img-1", price=train.loc[1, "price"] * 3,
                                      catalog_content="Item Name: another listing\nValue: 1\nUnit: Count\n")
    outlier = train.iloc[[2]].assign(sample_id="out-1", price=1e7)
    pd.concat([train, copy, conflict, outlier]).to_csv(demo_dir / "train.csv", index=False)
    return load_dataset(load_spec(demo_spec_path))


def test_each_rule_is_optional_and_reported(dirty):
    spec, train = dirty.spec, dirty.train
    keys = image_keys(train, spec)
    none, reports = clean_training_rows(train, spec, CleaningRules(False, False, "none"), keys)
    assert len(none) == len(train) and reports == []
    cleaned, reports = clean_training_rows(train, spec, CleaningRules(True, True, "log_iqr"), keys)
    by_rule = {r.rule: r for r in reports}
    assert by_rule["exact_duplicates"].rows_changed >= 0
    assert by_rule["image_price_conflicts"].rows_changed >= 1
    assert by_rule["outliers_log_iqr"].rows_changed >= 1 and "out-1" not in set(cleaned["sample_id"])
    image_group = keys == keys[train["sample_id"] == "img-1"].iloc[0]
    assert cleaned.loc[image_group.loc[cleaned.index].to_numpy(), "price"].nunique() == 1


def test_exact_duplicates_are_dropped(demo_dir, demo_spec_path):
    train = pd.read_csv(demo_dir / "train.csv", dtype={"sample_id": str})
    train = pd.concat([train, train.iloc[[5]].assign(sample_id="copy")])
    train.to_csv(demo_dir / "train.csv", index=False)
    dataset = load_dataset(load_spec(demo_spec_path))
    cleaned, reports = clean_training_rows(dataset.train, dataset.spec, CleaningRules(True, False))
    assert reports[0].rows_changed >= 1 and "copy" not in set(cleaned["sample_id"])


def test_clean_command_writes_a_new_dataset_and_leaves_test_alone(dirty, demo_dir, demo_spec_path, tmp_path,
                                                                  capsys):
    out = tmp_path / "clean"
    assert clean_main(["--dataset", str(demo_spec_path), "--out", str(out), "--outliers", "log_iqr"]) == 0
    assert "image_price_conflicts" in capsys.readouterr().out
    cleaned = load_dataset(load_spec(out / "dataset.yaml"))
    assert cleaned.spec.test_path == (demo_dir / "test.csv").resolve()
    pd.testing.assert_frame_equal(cleaned.test, dirty.test)
    assert len(cleaned.train) < len(dirty.train)
    assert main(["folds", "--dataset", str(out / "dataset.yaml")]) == 0
    assert (out / "folds.csv").is_file() and not (out / "folds.csv").samefile(demo_dir / "folds.csv")
    assert clean_main(["--dataset", str(demo_spec_path), "--out", str(demo_dir)]) == 2
