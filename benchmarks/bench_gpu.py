"""GPU figures for the deep approaches: run it when a GPU is lent (the tests never need one).

1. Largest batch: the CLIP ViT-L/14 and ViT-H/14 fusion networks (the real architectures, random init: no weights
   can be had here), one training step (forward, backward, AdamW) under the trainer's mixed precision at doubling
   batch sizes until the GPU runs out of memory: peak memory and images per second at each size.
2. Training: ``catalog-ml run clip_vitl`` and ``laion_clip_vith`` (``pretrained=none``) for a few hundred optimizer
   steps on the generated catalogue with images (fold 0): images per second of training and the fold's SMAPE.
3. Frozen MiniLM sentence embeddings of ``--texts`` distinct texts: texts per second and peak memory.

Everything goes to ``--out`` (``gpu_figures.json`` and ``gpu_figures.md``), written after each part, so a run that
is stopped keeps what finished.

    python benchmarks/bench_gpu.py --out DIR                  # on the GPU machine: about 10 minutes on one H200
    python benchmarks/bench_gpu.py --size tiny --device cpu --rows 60 --texts 200 --epochs 1 --max-batch 8 --out DIR
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_ml.core.run_files import markdown_table
from catalog_ml.data.spec import load_spec

APPROACHES = {"clip_vitl": "ViT-L-14", "laion_clip_vith": "ViT-H-14"}


def batch_probe(clip_name: str, size: str, device_name: str, max_batch: int, steps: int = 3) -> list[dict[str, Any]]:
    """Peak memory and images/s of one training step at batch 8, 16, ... until out of memory or ``max_batch``."""
    import torch

    from catalog_ml.nn.backbones import TINY_CLIP, clip_model
    from catalog_ml.nn.device import torch_device
    from catalog_ml.nn.multimodal import ClipImageTower, ClipTextTower, FusionRegressor
    from catalog_ml.nn.trainer import autocast_dtype

    device = torch_device(device_name)
    clip = clip_model(TINY_CLIP, "") if size == "tiny" else clip_model(clip_name, "none")
    clip_name = TINY_CLIP if size == "tiny" else clip_name
    side, context = int(clip.preprocessing.size), int(clip.model.context_length)
    model = FusionRegressor(ClipImageTower(clip.model, int(clip.model.visual.output_dim)),
                            ClipTextTower(clip.model, clip.tokenizer, clip.dim), 4).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5)
    dtype = autocast_dtype("auto", device)  # what the trainer uses: bf16 where the GPU has it
    scaler = torch.amp.GradScaler("cuda", enabled=dtype == torch.float16)
    rows, batch = [], 8
    while batch <= max_batch:
        inputs = {"image": torch.randn(batch, 3, side, side, device=device),
                  "tok_input_ids": torch.randint(1, 1000, (batch, context), device=device),
                  "has_image": torch.ones(batch, device=device), "quantities": torch.randn(batch, 4, device=device)}
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        try:
            seconds = _timed_steps(model, optimizer, (dtype, scaler), inputs, steps, device)
        except torch.OutOfMemoryError:
            rows.append({"model": clip_name, "batch": batch, "fits": False})
            break
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
        rows.append({"model": clip_name, "batch": batch, "fits": True, "images_per_s": batch * steps / seconds,
                     "peak_gib": peak})
        print(f"  {clip_name} batch {batch}: {rows[-1]['images_per_s']:.1f} images/s, peak {peak:.1f} GiB",
              flush=True)
        batch *= 2
    del model, optimizer
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return rows


def _timed_steps(model: Any, optimizer: Any, precision: tuple, inputs: dict, steps: int, device: Any) -> float:
    import torch

    dtype, scaler = precision

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = model(inputs).float().mean()
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

    step()  # the first step allocates the optimizer state and picks kernels
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    started = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - started


def training_run(approach: str, spec: Path, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``catalog-ml run APPROACH`` on fold 0 with random-init towers; images/s from the fold's fit time."""
    settings = ["pretrained=none", f"epochs={args.epochs}", "frozen_epochs=0", f"batch_size={args.batch_size}",
                f"num_workers={args.loader_workers}", "patience=100"] + (["size=tiny"] if args.size == "tiny" else [])
    command = [sys.executable, "-m", "catalog_ml.cli.main", "run", approach, "--dataset", str(spec), "--folds", "0",
               "--runs-dir", str(work / "runs"), "--cache-dir", str(work / "cache"), "--device", args.device,
               "--no-save-models"]
    for setting in settings:
        command += ["--set", setting]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return {"approach": approach, "error": done.stderr.strip().splitlines()[-1:] or ["exit code"]}
    score = pd.read_csv(work / "runs" / load_spec(spec).name / approach / "scores.csv").iloc[0]
    train_rows = int(args.rows * 0.8 * 0.9)  # fold 0's training rows less the early-stopping share
    epochs = int(score.get("epochs_run", args.epochs))
    model = APPROACHES[approach] if args.size == "real" else "tiny"
    return {"approach": approach, "model": model, "batch": args.batch_size, "epochs": epochs,
            "optimizer_steps": epochs * -(-train_rows // args.batch_size), "fit_s": float(score["fit_seconds"]),
            "train_images_per_s": train_rows * epochs / float(score["fit_seconds"]), "smape": float(score["smape"]),
            "wall_s": time.perf_counter() - started}


def text_embeddings(n_texts: int, device_name: str) -> dict[str, Any]:
    """MiniLM vectors of ``n_texts`` distinct generated texts on the device (no cache): texts/s and peak memory."""
    import torch

    from catalog_ml.core.resources import use_device
    from catalog_ml.nn.device import torch_device
    from catalog_ml.nn.sentence_embeddings import sentence_embeddings

    use_device(device_name)
    device = torch_device()
    words = ["stainless", "organic", "cotton", "pack", "wireless", "ceramic", "leather", "kids", "steel", "premium"]
    texts = [f"Item Name: {words[i % 10]} {words[(i // 10) % 10]} model {i} Value: {i % 97}.0 Unit: Ounce "
             f"Bullet Point: {' '.join(words[(i + j) % 10] for j in range(i % 40 + 5))}" for i in range(n_texts)]
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    sentence_embeddings(texts[:256], None, batch_size=256)  # loads the model: not counted
    started = time.perf_counter()
    vectors = sentence_embeddings(texts, None, batch_size=256)
    seconds = time.perf_counter() - started
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    return {"texts": len(vectors), "seconds": seconds, "texts_per_s": len(vectors) / seconds, "peak_gib": peak,
            "device": str(device)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT", "gpu_figures")))
    parser.add_argument("--device", default="cuda", help="cuda (default), or cpu for a smoke run")
    parser.add_argument("--size", choices=["real", "tiny"], default="real", help="tiny: CPU smoke run")
    parser.add_argument("--rows", type=int, default=3000, help="generated training rows (with images)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs of each run")
    parser.add_argument("--batch-size", type=int, default=32, help="training runs' batch size")
    parser.add_argument("--loader-workers", type=int, default=min(8, os.cpu_count() or 1),
                        help="data-loader processes of the training runs (photos are decoded on the CPU)")
    parser.add_argument("--max-batch", type=int, default=1024, help="largest batch the probe tries")
    parser.add_argument("--texts", type=int, default=100_000, help="texts embedded by MiniLM")
    parser.add_argument("--parts", default="batch,train,text", help="which parts to run, comma-separated")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.out.mkdir(parents=True, exist_ok=True)
    parts, figures = args.parts.split(","), {"device": args.device, "size": args.size}

    def save() -> None:
        (args.out / "gpu_figures.json").write_text(json.dumps(figures, indent=1, default=str))
        tables = [f"## {name}\n\n{markdown_table(pd.DataFrame(rows), '{:.2f}')}\n"
                  for name, rows in figures.items() if isinstance(rows, list) and rows]
        (args.out / "gpu_figures.md").write_text("\n".join(tables))

    if "batch" in parts:
        figures["largest_batch"] = []
        for clip_name in APPROACHES.values():
            figures["largest_batch"] += batch_probe(clip_name, args.size, args.device, args.max_batch)
            save()
    if "train" in parts:
        from catalog_ml.cli.main import main as cli_main

        data = args.out / "data"
        if cli_main(["demo-data", "--out", str(data), "--train-rows", str(args.rows), "--test-rows", "100"]) != 0:
            raise SystemExit("could not write the generated catalogue")
        if cli_main(["folds", "--dataset", str(data / "dataset.yaml"), "--force"]) != 0:
            raise SystemExit("could not write the folds")
        figures["training"] = []
        for approach in APPROACHES:
            figures["training"].append(training_run(approach, data / "dataset.yaml", args.out, args))
            print(f"  {figures['training'][-1]}", flush=True)
            save()
    if "text" in parts:
        figures["text_embeddings"] = [text_embeddings(args.texts, args.device)]
        print(f"  {figures['text_embeddings'][0]}", flush=True)
        save()
    print((args.out / "gpu_figures.md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
