"""``catalog-ml fit``: a preset's approaches and the honest blend in one call, within a time limit."""

import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.core import presets, runner
from catalog_ml.errors import CatalogError


def test_fast_preset_fits_blends_and_prints_a_leaderboard(demo_spec_path, tmp_path, capsys):
    submission = tmp_path / "fast.csv"
    assert main(["fit", "--dataset", str(demo_spec_path), "--preset", "fast", "--runs-dir", str(tmp_path / "runs"),
                 "--cache-dir", str(tmp_path / "cache"), "--submission", str(submission)]) == 0
    printed = capsys.readouterr().out
    assert "## leaderboard (fast" in printed and "| tfidf_ridge |" in printed and "| blend (" in printed
    assert (tmp_path / "runs" / "demo" / "_blend" / "fit_fast" / "blender" / "manifest.json").is_file()
    assert len(pd.read_csv(submission)) == 120


def test_a_time_limit_that_fits_no_fold_is_one_clear_error(demo_spec_path, tmp_path, capsys, monkeypatch):
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(runner._FoldClock, "now", staticmethod(lambda: float(next(clock))))
    assert main(["fit", "--dataset", str(demo_spec_path), "--preset", "fast", "--time-limit", "50",
                 "--runs-dir", str(tmp_path / "runs")]) == 2
    assert "no approach finished its folds within --time-limit 50" in capsys.readouterr().err


def test_presets_leave_out_approaches_that_cannot_run_here(monkeypatch):
    monkeypatch.setattr(presets, "unavailable_approaches", lambda: {"xgb_spacy": "pip install 'catalog-ml[xgboost]'"})
    available, left_out = presets.preset_approaches("best", "regression")
    assert "xgb_spacy" not in available and left_out == ["xgb_spacy (pip install 'catalog-ml[xgboost]')"]
    with pytest.raises(CatalogError, match="unknown preset 'quick'"):
        presets.preset_approaches("quick", "regression")
