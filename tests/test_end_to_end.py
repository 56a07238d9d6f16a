import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from catalog_ml.cli.main import main

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "data"), "--train-rows", "600", "--test-rows", "200",
                 "--runs-dir", str(tmp_path / "runs"), "--submissions-dir", str(tmp_path / "subs")])
    out = capsys.readouterr().out
    assert code == 0, out
    submission = tmp_path / "subs" / "demo_blend.csv"
    assert submission.is_file()
    assert len(pd.read_csv(submission)) == 200
    scores = pd.read_csv(tmp_path / "runs" / "demo" / "tfidf_ridge" / "scores.csv")
    baseline = pd.read_csv(tmp_path / "runs" / "demo" / "median_baseline" / "scores.csv")
    assert scores["smape"].iloc[-1] < 0.6 * baseline["smape"].iloc[-1]
    assert "hidden test SMAPE" in out
    # a second demo reuses data, folds and finished folds
    assert main(["demo", "--out", str(tmp_path / "data"), "--runs-dir", str(tmp_path / "runs"),
                 "--submissions-dir", str(tmp_path / "subs")]) == 0


@pytest.mark.parametrize("script", ["approaches/tfidf_ridge.py", "approaches/median_baseline.py",
                                    "data_cleaning/make_folds.py", "data_cleaning/make_demo_data.py",
                                    "data_cleaning/validate_submission.py"])
def test_scripts_explain_themselves(script):
    result = subprocess.run([sys.executable, str(REPO / script), "--help"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--dataset" in result.stdout or "--out" in result.stdout or "file" in result.stdout


def test_approach_help_lists_settings():
    result = subprocess.run([sys.executable, str(REPO / "approaches/tfidf_ridge.py"), "--help"],
                            capture_output=True, text=True, timeout=120)
    assert "alpha = 1.5" in result.stdout and "--set" in result.stdout
