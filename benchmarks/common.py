"""Helpers shared by the benchmark scripts: real-data specs, writable fold files, peak memory."""

from __future__ import annotations

import dataclasses
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

from catalog_ml.data.folds import make_folds, write_folds
from catalog_ml.data.loading import Dataset, load_dataset
from catalog_ml.data.spec import load_spec

BENCHMARKS = Path(__file__).resolve().parent
SPECS = BENCHMARKS / "specs"
SHARED_DATA = BENCHMARKS.parent.parent / "shared" / "data"


def real_dataset(name: str, work_dir: Path, n_folds: int = 5, seed: int = 42) -> Dataset | None:
    """Load a real dataset by spec name with its fold file in ``work_dir``; None (and a message) when absent."""
    spec = load_spec(SPECS / f"{name}.yaml")
    if not spec.train_path.exists():
        print(f"skipped {name}: {spec.train_path} is absent", file=sys.stderr)
        return None
    spec = dataclasses.replace(spec, folds_file=str((work_dir / name / "folds.csv").resolve()))
    dataset = load_dataset(spec)
    if not spec.folds_path.exists():
        write_folds(make_folds(dataset, n_folds=n_folds, seed=seed), spec.folds_path, {"seed": seed})
    return dataset


def code_version() -> str:
    """The last commit that changed the package (src/; short hash, "+changes" when src/ differs from it), or
    "unknown" outside git. Commits of docs, tests or benchmarks do not change it, so a suite resumed across them
    still reports one version of our code."""
    def git(*arguments: str) -> str:
        return subprocess.run(["git", "-C", str(BENCHMARKS.parent), *arguments], capture_output=True, text=True,
                              check=True).stdout.strip()

    try:
        commit = git("log", "-1", "--format=%h", "--", "src")
        changed = git("status", "--porcelain", "--untracked-files=no", "--", "src")
        return (commit or "unknown") + ("+changes" if changed else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_description() -> str:
    """The machine in one line: CPU model and cores, bf16 support (MiniLM speed depends on it), memory, GPU."""
    from catalog_ml.nn.precision import cpu_has_native_bf16

    cpuinfo = Path("/proc/cpuinfo")
    names = [line.split(":", 1)[1].strip() for line in (cpuinfo.read_text().splitlines() if cpuinfo.is_file() else [])
             if line.startswith("model name")]
    model = names[0] if names else platform.processor() or platform.machine()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024 ** 3 if hasattr(os, "sysconf") else 0
    return (f"{os.cpu_count()} CPU cores ({model}, {'with' if cpu_has_native_bf16() else 'no'} native bf16), "
            f"{memory:.0f} GiB memory, {_gpu_description()}")


def _gpu_description() -> str:
    import torch

    return f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclasses.dataclass
class BoundedRun:
    """How a bounded child process ended: exit code, wall seconds, its peak memory, and whether it was stopped."""

    exit_code: int
    seconds: float
    peak_mb: float
    overran: bool


# The child's own peak memory: on Linux a process started by fork + exec inherits its parent's high-water RSS in
# ru_maxrss, so a child of a benchmark that holds a large table would report at least that table's size. This small
# wrapper (~15 MB) starts the command and writes what its own children peaked at.
PEAK_WRAPPER = ("import resource, subprocess, sys\n"
                "code = subprocess.call(sys.argv[2:])\n"
                "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
                "sys.exit(code if code >= 0 else 128 - code)\n")


def run_bounded(command: list[str], timeout: float | None, output: IO, env: dict[str, str]) -> BoundedRun:
    """Run ``command`` in its own process group, writing to ``output``; the whole group is killed at ``timeout``.
    Peak memory is the command's own (the wrapper above); for a killed run, an upper bound."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak_kib"
        child = subprocess.Popen([sys.executable, "-c", PEAK_WRAPPER, str(peak_file), *command], env=env,
                                 stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
        stopped = threading.Event()

        def stop() -> None:
            stopped.set()
            os.killpg(child.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, stop) if timeout else None
        if timer is not None:
            timer.start()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait for it again
        if timer is not None:
            timer.cancel()
        peak_kib = int(peak_file.read_text()) if peak_file.is_file() else usage.ru_maxrss
    return BoundedRun(child.returncode, time.perf_counter() - started, peak_kib / 1024, stopped.is_set())
