"""The deep trainer with frozen towers: effnet_bert on fold 0 of a generated catalogue with photos, for the tiny
towers and for EfficientNet-Lite0 + MiniLM (both packaged, offline), FROZEN_EPOCHS epochs with the towers frozen
throughout, with and without ``cache_tower_outputs`` (the towers run once per row instead of once per epoch). Prints
the fold's fit seconds and SMAPE (the cached run sees the training photos without augmentation).

    python benchmarks/bench_warmup.py [--train-rows 600] [--epochs 3] [--work-dir DIR]
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
    parser.add_argument("--epochs", type=int, default=3, help="epochs, every one with the towers frozen")
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
    print(f"effnet_bert, fold 0 of {args.train_rows} rows, {args.epochs} epochs with frozen towers "
          f"({args.cli_module}):")
    for label, settings in CONFIGS.items():
        for cached in (False, True):
            runs = work / f"runs_{label.split()[0].lower()}_{'cached' if cached else 'plain'}"
            frozen = [f"epochs={args.epochs}", f"frozen_epochs={args.epochs}", "patience=100",
                      f"cache_tower_outputs={str(cached).lower()}"]
            command = [*cli, "run", "effnet_bert", "--dataset", str(data / "dataset.yaml"), "--runs-dir", str(runs),
                       "--fold", "0", "--cache-dir", str(work / "cache")]
            for setting in [*settings, *frozen]:
                command += ["--set", setting]
            subprocess.run(command, check=True, capture_output=True, env=env)
            fold = pd.read_csv(runs / "demo" / "effnet_bert" / "scores.csv").iloc[0]
            print(f"  {label}{', cached tower outputs' if cached else ''}: fit {float(fold['fit_seconds']):.1f} s, "
                  f"fold SMAPE {float(fold['smape']):.2f}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
