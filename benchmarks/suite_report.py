"""The benchmark suite's report: tables and charts from the suite's rows (one row per step, see bench_suite.py).

The comparison a reader of the README wants: per real table, each system (our honest blend, the presets, AutoGluon
at its own budgets, TF-IDF + Ridge) with its SMAPE, the standard error over the folds and its wall time, and two
ratios against the better AutoGluon run on that table: SMAPE relative to it and wall time relative to it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from common import machine_description

from catalog_ml.core.presets import PRESETS
from catalog_ml.core.run_files import markdown_table

ASSETS = Path(__file__).resolve().parent.parent / "assets"
PEER_PREFIX = "AutoGluon "
RIDGE = "tfidf_ridge"
# step name -> the system's name in the comparison, in the order shown
SYSTEMS = {"ours: total": "honest blend (every run)",
           **{f"preset {name}": f"preset {name}" for name in reversed(list(PRESETS))},
           "AutoGluon best_quality": "AutoGluon best_quality", "AutoGluon medium_quality": "AutoGluon medium_quality",
           RIDGE: "TF-IDF + Ridge"}
NOT_A_STEP = ("ours: total", "image embeddings (Lite0)")


def _real(table: pd.DataFrame) -> pd.DataFrame:
    return table[~table["dataset"].str.startswith("synthetic")]


def _failed(row: pd.Series) -> str | None:
    """Why a step has no score (its status, or a generic failure), or None when it has one."""
    status = row.get("status")
    if isinstance(status, str) and status:
        return status
    if row.get("ok") in (False,) or not np.isfinite(row.get("smape", np.nan)):  # numpy or Python False
        return "failed (see the suite's output)"
    return None


def steps_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per real dataset: the SMAPE of every approach, the blends and the peer runs (or why there is none)."""
    wide = []
    for name, part in _real(table).groupby("dataset", sort=False):
        row = {"dataset": name}
        for _, step in part.iterrows():
            if step["step"] not in NOT_A_STEP:
                row[step["step"]] = _failed(step) or f"{step['smape']:.2f}"
        wide.append(row)
    return pd.DataFrame(wide).fillna("")


def systems(table: pd.DataFrame) -> pd.DataFrame:
    """The systems of the comparison, long form: dataset, rows, system, smape, se, seconds, status."""
    found = []
    for name, part in _real(table).groupby("dataset", sort=False):
        by_step = part.drop_duplicates("step", keep="last").set_index("step")
        rows = by_step["rows"].dropna() if "rows" in by_step else pd.Series(dtype=float)
        for step, system in SYSTEMS.items():
            if step not in by_step.index:
                continue
            record = by_step.loc[step]
            found.append({"dataset": name, "rows": int(rows.iloc[0]) if len(rows) else None, "system": system,
                          "smape": float(record["smape"]), "se": float(record.get("se", np.nan)),
                          "seconds": float(record["seconds"]), "status": _failed(record)})
    return pd.DataFrame(found, columns=["dataset", "rows", "system", "smape", "se", "seconds", "status"])


def better_peer(part: pd.DataFrame) -> pd.Series | None:
    """The AutoGluon run with the lower SMAPE on one table (only runs that scored every fold), or None."""
    peers = part[part["system"].str.startswith(PEER_PREFIX) & part["smape"].notna()]
    return None if peers.empty else peers.loc[peers["smape"].idxmin()]


def comparison_table(table: pd.DataFrame) -> pd.DataFrame:
    """Each system on each real table: SMAPE ± standard error, wall time, and both against the better AutoGluon."""
    shown = []
    for name, part in systems(table).groupby("dataset", sort=False):
        peer = better_peer(part)
        for _, system in part.iterrows():
            scored = np.isfinite(system["smape"])
            row = {"dataset": name, "rows": f"{int(system['rows']):,}" if pd.notna(system["rows"]) else "",
                   "system": system["system"],
                   "SMAPE": f"{system['smape']:.2f}" if scored else system["status"] or "n/a",
                   "± SE": f"{system['se']:.2f}" if np.isfinite(system["se"]) else "",
                   "wall s": f"{system['seconds']:.0f}",
                   "SMAPE vs better AutoGluon": "n/a", "time vs it": "n/a"}
            if peer is not None:
                if scored:
                    row["SMAPE vs better AutoGluon"] = f"{100 * (system['smape'] / peer['smape'] - 1):+.1f}%"
                row["time vs it"] = f"{system['seconds'] / peer['seconds']:.2f}x"
            shown.append(row)
    return pd.DataFrame(shown)


def summary_table(table: pd.DataFrame) -> pd.DataFrame:
    """One row per real table (the README's): "SMAPE ± SE (seconds)" of each system, and the honest blend's SMAPE and
    time relative to the better AutoGluon run."""
    wide = []
    for name, part in systems(table).groupby("dataset", sort=False):
        row = {"dataset": name, "rows": f"{int(part['rows'].dropna().iloc[0]):,}" if part["rows"].notna().any()
               else ""}
        for _, system in part.iterrows():
            score = (f"{system['smape']:.2f} ± {system['se']:.2f}" if np.isfinite(system["smape"])
                     else system["status"])
            row[system["system"]] = f"{score} ({system['seconds']:.0f} s)"
        peer, blend = better_peer(part), part[part["system"] == SYSTEMS["ours: total"]]
        if peer is not None and len(blend) and np.isfinite(blend["smape"].iloc[0]):
            row["blend vs better AutoGluon"] = (f"{100 * (blend['smape'].iloc[0] / peer['smape'] - 1):+.1f}% in "
                                                f"{blend['seconds'].iloc[0] / peer['seconds']:.2f}x the time")
        wide.append(row)
    return pd.DataFrame(wide).fillna("")


def peer_fold_table(table: pd.DataFrame, work: Path) -> pd.DataFrame:
    """Fold by fold: our honest blend against each AutoGluon run (difference negative: ours is better)."""
    rows = []
    real = _real(table)
    for _, peer in real[real["step"].str.startswith(PEER_PREFIX)].iterrows():
        folds = json.loads(peer.get("autogluon_folds") or "{}")
        scores_path = work / "runs" / peer["dataset"] / "_blend" / "auto" / "fold_scores.csv"
        if not folds or not scores_path.is_file():
            continue
        ours = pd.read_csv(scores_path).astype({"fold": str}).set_index("fold")["blend"]
        for fold, theirs in folds.items():
            rows.append({"dataset": peer["dataset"], "peer": peer["step"].removeprefix(PEER_PREFIX), "fold": fold,
                         "honest blend": round(float(ours[fold]), 3), "AutoGluon": round(theirs, 3),
                         "difference": f"{100 * (ours[fold] / theirs - 1):+.1f}%"})
    return pd.DataFrame(rows)


def peer_description(table: pd.DataFrame) -> str:
    """How AutoGluon was run: each budget as recorded."""
    if "peer_budget" not in table.columns:
        return ""
    budgets = list(dict.fromkeys(table["peer_budget"].dropna()))
    return ("AutoGluon-Tabular 1.6.3 on the same folds and columns, log1p target with MAE, at fixed budgets (not our "
            "time): " + "; ".join(budgets) + ".\n\n") if budgets else ""


def code_versions(table: pd.DataFrame) -> str:
    """Which commits our steps ran at (each step is recorded with its own; a resumed suite can mix them)."""
    if "commit" not in table.columns:
        return ""
    counts = table["commit"].dropna().value_counts()
    listed = ", ".join(f"{commit} ({count} step{'s' * (count > 1)})" for commit, count in counts.items())
    return f"Our steps ran at commit {listed}.\n\n" if len(counts) else ""


def dominant_steps(table: pd.DataFrame, top: int = 5) -> str:
    """The steps that took most of the suite's time, as one sentence."""
    steps = table[table["step"] != "ours: total"].dropna(subset=["seconds"])
    steps = steps[~steps["step"].str.startswith("preset ")]  # a preset's time is its runs' time again
    total = steps["seconds"].sum()
    largest = steps.nlargest(top, "seconds")
    return (f"The suite's steps took {total / 60:.0f} minutes in all; the largest: " + ", ".join(
        f"{r['dataset']} {r['step']} {r['seconds'] / 60:.0f} min" for _, r in largest.iterrows()) + ".")


def write_assets(table: pd.DataFrame, command: str, work: Path, assets: Path = ASSETS) -> None:
    """assets/benchmark_suite.md (tables, date, machine, command) and assets/benchmark_suite.png (score against time,
    one panel per table); with generated catalogues, assets/benchmark_scale.png (time and memory against size)."""
    header = (f"Measured {date.today().isoformat()} on {machine_description()} with:\n\n    {command}\n\n"
              f"5-fold group-aware SMAPE (lower is better) ± its standard error over the 5 folds; wall time in "
              f"seconds. Our honest blend's time is the sum of every step on the table (embeddings, every run, the "
              f"blend); a preset's is its runs plus its blend. The ratios compare each system with the better "
              f"AutoGluon run on that table (negative SMAPE: better than it; time below 1x: faster).\n\n"
              f"{peer_description(table)}{code_versions(table)}")
    text = header + markdown_table(summary_table(table)) + "\n\nEach system against the better AutoGluon run:\n\n"
    text += markdown_table(comparison_table(table)) + "\n"
    text += f"\n{dominant_steps(table)}\n\nEvery step's SMAPE:\n\n" + markdown_table(steps_table(table)) + "\n"
    folds = peer_fold_table(table, work)
    if len(folds):
        text += "\nFold by fold against AutoGluon (negative: ours is better):\n\n" + markdown_table(folds) + "\n"
    scale = _scale_rows(table)
    if len(scale):
        shown = scale[["rows", "step", "folds_run", "seconds", "seconds_per_fold", "peak_mb", "smape"]].round(1)
        text += "\nGenerated catalogues (no images):\n\n" + markdown_table(shown, "{:.1f}") + "\n"
    assets.mkdir(parents=True, exist_ok=True)
    (assets / "benchmark_suite.md").write_text(text)
    score_time_chart(systems(table), assets / "benchmark_suite.png")
    if len(scale):
        scale_chart(scale, assets / "benchmark_scale.png")


def _scale_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The approach runs on generated catalogues (the rows that say how many folds they ran)."""
    if "folds_run" not in table.columns:
        return table.iloc[:0]
    scale = table[table["dataset"].str.startswith("synthetic") & table["folds_run"].notna()]
    return scale.assign(rows=scale["dataset"].str.removeprefix("synthetic_").astype(int),
                        seconds_per_fold=scale["seconds"] / scale["folds_run"])


def _pyplot():  # noqa: ANN202 (matplotlib's module)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def score_time_chart(found: pd.DataFrame, path: Path) -> None:
    """One panel per table: each system's SMAPE (± standard error) against its wall time (log scale)."""
    plt = _pyplot()
    from matplotlib import ticker

    names = list(dict.fromkeys(found["dataset"])) or ["(no real dataset in this run)"]
    columns = min(3, len(names))
    grid_rows = -(-len(names) // columns)
    figure, axes = plt.subplots(grid_rows, columns, figsize=(5 * columns, 3.8 * grid_rows), squeeze=False)
    markers = dict(zip(SYSTEMS.values(), "o*sD^vP", strict=True))
    colours = dict(zip(SYSTEMS.values(), plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for axis, name in zip(axes.flat, names, strict=False):
        part = found[(found["dataset"] == name) & found["smape"].notna()]
        for _, system in part.iterrows():
            axis.errorbar(system["seconds"], system["smape"], yerr=np.nan_to_num(system["se"]), linestyle="none",
                          marker=markers[system["system"]], color=colours[system["system"]], markersize=8,
                          capsize=3, label=system["system"])
        axis.set_xscale("log")
        axis.xaxis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axis.xaxis.set_minor_formatter(ticker.NullFormatter())
        unscored = found[(found["dataset"] == name) & found["smape"].isna()]["system"]
        if len(unscored):
            axis.text(0.02, 0.98, "no score: " + ", ".join(unscored), transform=axis.transAxes, fontsize=7,
                      va="top")
        axis.set_title(name)
        axis.set_xlabel("wall time, s (log)")
        axis.set_ylabel("SMAPE ± SE (lower is better)")
        if part.empty:
            axis.text(0.5, 0.5, "nothing scored", ha="center", va="center", transform=axis.transAxes)
    for axis in list(axes.flat)[len(names):]:
        axis.set_visible(False)
    handles = {label: handle for axis in axes.flat for handle, label in zip(*axis.get_legend_handles_labels(),
                                                                          strict=True)}
    if handles:
        figure.legend(handles.values(), handles.keys(), loc="lower center", ncol=min(4, len(handles)), fontsize=8)
    figure.suptitle("score against time: lower left is better and faster")
    figure.tight_layout(rect=(0, 0.08 if handles else 0, 1, 0.97))
    figure.savefig(path, dpi=100)
    plt.close(figure)


def scale_chart(scale: pd.DataFrame, path: Path) -> None:
    """Seconds per fold and peak memory of the core approaches against the generated catalogue's size."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6.5, 4.5))
    for approach, part in scale.groupby("step"):
        axis.loglog(part["rows"], part["seconds_per_fold"], marker="o", label=f"{approach}: seconds per fold")
        axis.loglog(part["rows"], part["peak_mb"], marker="s", linestyle="--", label=f"{approach}: peak MB")
    axis.set_xlabel("training rows (generated catalogue)")
    axis.set_title("time and memory against size")
    axis.legend(fontsize=7)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
