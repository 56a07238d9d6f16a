"""Runs inside the AutoGluon virtual environment (never imports catalog_ml): fits AutoGluon-Tabular on every fold
of a shared fold file and writes its out-of-fold predictions.

    python autogluon_worker.py --table T.parquet --label y --problem regression|multiclass [--time-limit S] --out DIR

The table holds the feature columns, the label, ``id`` and ``fold``. Regression fits log1p(label) with MAE and writes
expm1 predictions; classification writes one probability column per class (``proba:<class>``). Each fold gets an
equal share of the time limit (without ``--time-limit``: no limit, AutoGluon's own default); ``fold_<k>.parquet`` is
written when the fold finishes, so a re-run skips it. When a fold's share is under ``--dynamic-stacking-min`` seconds
(default 600), best_quality's dynamic stacking is turned off from the start, as AutoGluon itself advises: its
hold-out check takes a quarter of the budget and then leaves no time for the final fit. When it still fails ("Learner
is already fit" was seen with 30 classes and no ray), the fold is refitted without it in the time that is left.

``--exclude-models RF,XT`` passes AutoGluon's ``excluded_model_types``. When a fold's share is too short for any
model (seen on books: 41 s, of which feature generation took 17 s), the fold would fail the same way on every fold:
the worker writes the reason to ``failure.txt`` and stops with exit code 4 instead of spending the other folds' time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd

NO_MODEL_IN_TIME = 4  # exit code: a fold's time share was too short for any model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--table", type=Path, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--problem", choices=["regression", "multiclass"], required=True)
    parser.add_argument("--time-limit", type=float, default=None,
                        help="seconds for all folds together (default: none, as AutoGluon's own default)")
    parser.add_argument("--presets", default="best_quality")
    parser.add_argument("--dynamic-stacking-min", type=float, default=600.0,
                        help="fold time share (seconds) below which dynamic stacking is off")
    parser.add_argument("--exclude-models", default="",
                        help="AutoGluon model types to leave out, comma-separated (e.g. RF,XT)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    from autogluon.tabular import TabularPredictor

    table = pd.read_parquet(args.table)
    folds = sorted(table["fold"].unique())
    args.out.mkdir(parents=True, exist_ok=True)
    for k in folds:
        done = args.out / f"fold_{k}.parquet"
        if done.is_file():
            continue
        train = table[table["fold"] != k].drop(columns=["id", "fold"])
        valid = table[table["fold"] == k]
        started = time.perf_counter()
        work = args.out / f"models_{k}"
        shutil.rmtree(work, ignore_errors=True)
        if args.problem == "regression":
            train = train.assign(**{args.label: np.log1p(train[args.label])})
            predictor = TabularPredictor(args.label, problem_type="regression", eval_metric="mean_absolute_error",
                                         path=str(work), verbosity=1)
        else:
            predictor = TabularPredictor(args.label, problem_type="multiclass", eval_metric="log_loss",
                                         path=str(work), verbosity=1)
        limit = args.time_limit / len(folds) if args.time_limit is not None else None
        stacking = {} if limit is None or limit >= args.dynamic_stacking_min else {"dynamic_stacking": False}
        excluded = {"excluded_model_types": args.exclude_models.split(",")} if args.exclude_models else {}
        try:
            predictor.fit(train, presets=args.presets, time_limit=limit, **stacking, **excluded)
        except RuntimeError as error:
            if "No models were trained" not in str(error):
                raise
            reason = (f"no model fitted in its {limit:.0f} s share of fold {k}" if limit is not None
                      else f"no model fitted on fold {k}")
            (args.out / "failure.txt").write_text(reason)
            print(f"{reason}: {error}", flush=True)
            return NO_MODEL_IN_TIME
        except AssertionError as error:
            # best_quality's dynamic stacking can leave no time for the final fit, or (seen with 30 classes and no
            # ray) leave the learner marked as fitted: refit the fold without it
            if stacking:
                raise
            print(f"fold {k}: {error}; refitting without dynamic stacking", flush=True)
            shutil.rmtree(work, ignore_errors=True)
            predictor = TabularPredictor(predictor.label, problem_type=predictor.problem_type,
                                         eval_metric=predictor.eval_metric, path=str(work), verbosity=1)
            remaining = max(limit - (time.perf_counter() - started), 0.25 * limit)
            predictor.fit(train, presets=args.presets, time_limit=remaining, dynamic_stacking=False, **excluded)
        features = valid.drop(columns=["id", "fold", args.label])
        result = pd.DataFrame({"id": valid["id"].to_numpy(), "fold": k})
        if args.problem == "regression":
            result["pred"] = np.expm1(predictor.predict(features).to_numpy())
        else:
            proba = predictor.predict_proba(features)
            for column in proba.columns:
                result[f"proba:{column}"] = proba[column].to_numpy()
        result.to_parquet(done.with_suffix(".tmp"))
        done.with_suffix(".tmp").replace(done)
        board = predictor.leaderboard(silent=True).set_index("model")
        fit_times = board["fit_time_marginal"].sort_values(ascending=False)
        info = {"fold": int(k), "seconds": time.perf_counter() - started, "best_model": predictor.model_best,
                "dynamic_stacking": not stacking,  # where AutoGluon's time went: each model's fit seconds
                "model_fit_seconds": {name: round(float(t), 1) for name, t in fit_times.items()}}
        (args.out / f"fold_{k}.json").write_text(json.dumps(info))
        shutil.rmtree(work, ignore_errors=True)  # models take GBs with best_quality
        print(json.dumps(info), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
