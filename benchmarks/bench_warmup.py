"""The deep trainer's frozen warm-up epoch: effnet_bert, one epoch with its towers frozen (the default first epoch),
fold 0 of a generated catalogue with photos, for the tiny towers and for EfficientNet-Lite0 + MiniLM (both
packaged, offline). Prints the fold's fit seconds (one warm-up epoch plus the early-stopping pass).

    python benchmarks/bench_warmup.py [--train-rows 600] [--work-dir DIR]
    PYTHONPATH=OTHER/src python benchmarks/bench_warmup.py --cli-module catalog_ml.cli   # another checkout
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

CONFIGS = {
    "tiny towers": ["size=tiny"],
    "Lite0 + MiniLM": ["image_backbone=tf_efficientnet_lite0", "image_weights=packaged", "text_model=minilm"],
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-rows", type=int, default=600)
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--cli-module", default="catalog_ml.cli.main", help="the catalog-ml module to run")
    args = parser.parse_args(argv)
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="catalog_ml_warmup_"))
    cli = [sys.executable, "-m", args.cli_module]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CATALOG_ML_NO_PROGRESS": "1"}
    data = work / "data"
    if not (data / "folds.csv").exists():
        subprocess.run([*cli, "demo-data", "--out", str(data), "--train-rows", str(args.train_rows),
                        "--test-rows", "50"], check=True, capture_output=True, env=env)
        subprocess.run([*cli, "folds", "--dataset", str(data / "dataset.yaml")], check=True, capture_output=True,
                       env=env)
    print(f"effnet_bert, fold 0 of {args.train_rows} rows, one frozen warm-up epoch ({args.cli_module}):")
    for label, settings in CONFIGS.items():
        runs = work / f"runs_{label.split()[0].lower()}"
        command = [*cli, "run", "effnet_bert", "--dataset", str(data / "dataset.yaml"), "--runs-dir", str(runs),
                   "--fold", "0", "--cache-dir", str(work / "cache"), "--set", "epochs=1", "--set", "frozen_epochs=1"]
        for setting in settings:
            command += ["--set", setting]
        subprocess.run(command, check=True, capture_output=True, env=env)
        fold = pd.read_csv(runs / "demo" / "effnet_bert" / "scores.csv").iloc[0]
        print(f"  {label}: fit {float(fold['fit_seconds']):.1f} s, fold SMAPE {float(fold['smape']):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
