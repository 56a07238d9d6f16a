"""Shared command-line plumbing: logging, the one-line error contract, dataset options."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from catalog_ml.data.loading import Dataset, load_dataset
from catalog_ml.data.spec import DatasetSpec, load_spec
from catalog_ml.errors import CatalogError, missing_dependency

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def configure_logging(verbose: bool = False) -> None:
    """INFO (or DEBUG) messages on stderr, without timestamps; quiet third-party libraries."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, format="%(message)s", stream=sys.stderr,
                        force=True)
    for noisy in ("matplotlib", "PIL", "urllib3", "filelock", "numba"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def guarded(command: Callable[[], int | None]) -> int:
    """Run a command; user problems become ``error: ...`` lines on stderr and exit status 2."""
    try:
        return command() or 0
    except CatalogError as error:
        return _report(error)
    except ModuleNotFoundError as error:
        missing = missing_dependency(error)
        if missing is None:
            raise
        return _report(missing)
    except KeyboardInterrupt:
        print("interrupted: finished folds are kept; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # Python's flush at exit would raise again
        return 1


def _report(error: CatalogError) -> int:
    for line in error.problems:
        print(f"error: {line}", file=sys.stderr)
    return EXIT_USER_ERROR


def add_dataset_arguments(parser: argparse.ArgumentParser, required: bool = True) -> None:
    """--dataset (built-in name or spec YAML path) and --data-root (where the spec's files live)."""
    parser.add_argument("--dataset", required=required,
                        help="built-in spec name (amazon2025) or path to a dataset spec YAML file")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="folder holding the spec's train/test files (overrides the spec's 'root')")
    parser.add_argument("--folds-file", type=Path, default=None,
                        help="fold file to use (overrides the spec's 'folds_file'; for read-only data folders)")


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    """--device: where networks and embeddings run."""
    parser.add_argument("--device", default=None,
                        help="auto (a CUDA GPU when torch has one, else the CPU), cpu, cuda or cuda:N (default: auto)")


def add_resource_arguments(parser: argparse.ArgumentParser) -> None:
    """--threads and --device: the share of this machine a command's models use."""
    parser.add_argument("--threads", type=int, default=None,
                        help="CPU threads for the models (default: the CPUs this process may use)")
    add_device_argument(parser)


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """--jobs, --executor and --ray-address: how fold jobs run side by side."""
    parser.add_argument("--jobs", type=int, default=1,
                        help="fold jobs (of every approach and seed named) fitted side by side, each with threads / "
                             "jobs; the outputs equal a sequential run's (default: 1)")
    parser.add_argument("--executor", default="local", choices=["local", "ray"],
                        help="local: worker processes on this machine; ray: Ray tasks on a local Ray instance, or "
                             "on the cluster at --ray-address (default: local)")
    parser.add_argument("--ray-address", default=None, metavar="HOST:PORT",
                        help="an existing Ray cluster (with --executor ray): HOST:PORT, ray://HOST:PORT or auto")


def use_resources(args: argparse.Namespace) -> None:
    """Apply ``--threads`` and ``--device`` to this process."""
    from catalog_ml.core.resources import use_threads

    use_threads(args.threads)
    select_device(args.device)


def select_device(device: str | None) -> None:
    """Record ``--device`` for this process; a GPU asked for where torch has none is refused now, not mid-run."""
    from catalog_ml.core.resources import use_device

    if device is not None and device.strip().lower() not in ("auto", "cpu"):
        from catalog_ml.nn.device import torch_device

        torch_device(device)
    use_device(device)


def spec_from_args(args: argparse.Namespace) -> DatasetSpec:
    spec = load_spec(args.dataset, root=args.data_root)
    folds_file = getattr(args, "folds_file", None)
    return dataclasses.replace(spec, folds_file=str(folds_file.resolve())) if folds_file else spec


def dataset_from_args(args: argparse.Namespace, require_test: bool = False) -> Dataset:
    dataset = load_dataset(spec_from_args(args), require_test=require_test)
    logging.getLogger(__name__).info("%s: %d train rows, %s test rows", dataset.spec.name, len(dataset.train),
                                     len(dataset.test) if dataset.test is not None else "no")
    return dataset


def progress_enabled() -> bool:
    """Progress bars unless CATALOG_ML_NO_PROGRESS is set (CI logs stay readable)."""
    return not os.environ.get("CATALOG_ML_NO_PROGRESS")
