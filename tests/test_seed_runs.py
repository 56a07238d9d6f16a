"""--seeds: one run per distinct seed on the same folds, and the spread table."""

import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.core.seed_runs import parse_seed_list, seed_spread
from catalog_ml.errors import CatalogError


def test_seed_list_parsing_drops_duplicates_and_refuses_junk(caplog):
    assert parse_seed_list("0,1,1,2") == (0, 1, 2) and "repeats a seed" in caplog.text
    with pytest.raises(CatalogError, match="comma-separated integers"):
        parse_seed_list("0,one")


def test_spread_per_fold_and_overall():
    tables = {s: pd.DataFrame({"fold": ["0", "1", "all"], "smape": [10.0 + s, 20.0, 15.0 + s]}) for s in (0, 2)}
    spread = seed_spread(tables).set_index("fold")
    assert spread.loc["0", "mean"] == 11.0 and spread.loc["1", "std"] == 0.0
    assert spread.loc["all", "std"] == pytest.approx(2 ** 0.5) and spread.loc["all", "seeds"] == 2


def test_seeds_option_runs_each_seed_once(demo_spec_path, tmp_path, capsys):
    code = main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--seeds", "3,3,4", "--runs-dir",
                 str(tmp_path / "runs"), "--folds", "0,1"])
    assert code == 0
    assert sorted(p.name for p in (tmp_path / "runs" / "demo").iterdir()) == ["median_baseline-seed3",
                                                                               "median_baseline-seed4"]
    assert "smape over seeds 3,4" in capsys.readouterr().out


def test_blend_averages_seed_runs_of_one_approach(demo_spec_path, tmp_path, capsys):
    runs = str(tmp_path / "runs")
    for name, seeds in (("tfidf_ridge", "1,2"), ("median_baseline", "1")):
        assert main(["run", name, "--dataset", str(demo_spec_path), "--seeds", seeds, "--runs-dir", runs]) == 0
    code = main(["blend", "--dataset", str(demo_spec_path), "--runs-dir", runs, "--method", "mean",
                 "--average-seeds", "--submission", str(tmp_path / "s.csv")])
    assert code == 0
    weights = pd.read_csv(tmp_path / "runs" / "demo" / "_blend" / "mean" / "weights.csv")
    assert set(weights.iloc[:, 0]) == {"tfidf_ridge-seeds", "median_baseline-seeds"}
