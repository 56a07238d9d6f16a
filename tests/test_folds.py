import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.data.folds import fold_hash, load_folds, make_folds, stratification_labels
from catalog_ml.data.grouping import near_duplicate_groups, normalise_name
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError


@pytest.fixture()
def dataset(demo_spec_path):
    return load_dataset(load_spec(demo_spec_path))


def test_no_group_crosses_folds(dataset):
    table = make_folds(dataset, n_folds=4, seed=7)
    assert (table.groupby("group")["fold"].nunique() == 1).all()
    names = dataset.train["catalog_content"].str.split("\n").str[0].map(normalise_name)
    assert (pd.DataFrame({"name": names, "fold": table["fold"]}).groupby("name")["fold"].nunique() == 1).all()
    assert sorted(table["fold"].unique()) == [0, 1, 2, 3]


def test_identical_images_share_a_group(dataset):
    links = dataset.train["image_link"].copy()
    dataset.train.loc[1, "image_link"] = links[0]
    groups = near_duplicate_groups(dataset.train, dataset.spec)
    assert groups[0] == groups[1]


def test_stratification_holds(dataset):
    table = make_folds(dataset, n_folds=4, seed=7, n_bins=5)
    bins = stratification_labels(dataset.target, dataset.spec, 5)
    shares = pd.crosstab(table["fold"], bins, normalize="index")
    overall = pd.Series(bins).value_counts(normalize=True).sort_index()
    assert (shares.sub(overall, axis=1).abs().to_numpy() < 0.08).all()
    sizes = table["fold"].value_counts()
    assert sizes.max() - sizes.min() < 0.15 * len(table)


def test_folds_are_seeded_and_hash_is_order_free(dataset):
    a = make_folds(dataset, n_folds=4, seed=7)
    b = make_folds(dataset, n_folds=4, seed=7)
    c = make_folds(dataset, n_folds=4, seed=8)
    assert a.equals(b)
    assert not a["fold"].equals(c["fold"])
    shuffled = a.sample(frac=1.0, random_state=0)
    assert fold_hash(a["id"].to_numpy(), a["fold"].to_numpy()) == fold_hash(shuffled["id"].to_numpy(),
                                                                          shuffled["fold"].to_numpy())


def test_fold_file_for_another_dataset_is_refused(dataset, demo_dir):
    folds = pd.read_csv(demo_dir / "folds.csv", dtype={"id": str})
    folds.loc[0, "id"] = "999999999"
    folds.to_csv(demo_dir / "folds.csv", index=False)
    with pytest.raises(CatalogError, match="made for another dataset: 1 training ids are not in it"):
        load_folds(dataset)


def test_folds_command_writes_once(demo_dir, demo_spec_path, capsys):
    (demo_dir / "folds.csv").unlink()
    assert main(["folds", "--dataset", str(demo_spec_path), "--n-folds", "3"]) == 0
    out = capsys.readouterr().out
    assert "hash" in out and (demo_dir / "folds.json").is_file()
    before = (demo_dir / "folds.csv").read_bytes()
    assert main(["folds", "--dataset", str(demo_spec_path), "--n-folds", "5"]) == 2
    assert "folds are made once" in capsys.readouterr().err
    assert (demo_dir / "folds.csv").read_bytes() == before
    table = pd.read_csv(demo_dir / "folds.csv")
    assert np.array_equal(np.sort(table["fold"].unique()), [0, 1, 2])


def test_group_columns_replace_the_item_name_and_folds_says_what_groups(tmp_path, capsys):
    frame = pd.DataFrame({"id": [str(i) for i in range(8)], "title": ["same line"] * 4 + ["other"] * 4,
                          "model": ["m1", "m1", "m2", "m2", "m3", "m3", "m4", "m4"], "price": np.arange(1.0, 9.0)})
    frame.to_csv(tmp_path / "train.csv", index=False)
    spec_path = tmp_path / "spec.yaml"
    base = "name: t\nid_column: id\ntarget: price\ntext_columns: [title]\ntest_file: null\n"
    spec_path.write_text(base)
    by_name = near_duplicate_groups(frame, load_spec(spec_path))
    assert len(set(by_name)) == 2  # the default: the item name
    spec_path.write_text(base + "group_columns: [model]\n")
    by_model = near_duplicate_groups(frame, load_spec(spec_path))
    assert len(set(by_model)) == 4 and by_model[0] == by_model[1] != by_model[2]  # the name no longer links rows
    spec_path.write_text(base + "group_columns: [model, '@name']\n")
    assert len(set(near_duplicate_groups(frame, load_spec(spec_path)))) == 2
    spec_path.write_text(base + "group_columns: [model]\n")
    assert main(["folds", "--dataset", str(spec_path), "--n-folds", "2", "--bins", "2"]) == 0
    assert "8 rows in 4 groups; rows share a group when they share column 'model'" in capsys.readouterr().out
