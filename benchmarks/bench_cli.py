"""Start-up time of the command line: ``catalog-ml --help`` against a bare ``python -c pass``, and each command's
``--help``, as fresh processes (the median of ``--repeats`` runs).

    python benchmarks/bench_cli.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

from catalog_ml.cli.main import COMMANDS


def median_seconds(command: list[str], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="runs per command (the median is reported)")
    args = parser.parse_args(argv)
    cli = [sys.executable, "-m", "catalog_ml.cli.main"]
    bare = median_seconds([sys.executable, "-c", "pass"], args.repeats)
    top = median_seconds([*cli, "--help"], args.repeats)
    print(f"python -c pass: {bare:.3f} s\ncatalog-ml --help: {top:.3f} s ({top / bare:.1f}x python -c pass)\n")
    print("| command | --help seconds |\n|---|---|")
    for name in COMMANDS:
        print(f"| {name} | {median_seconds([*cli, name, '--help'], max(1, args.repeats // 3)):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
