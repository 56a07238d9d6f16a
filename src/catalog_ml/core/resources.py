"""The user's machine as settings: how many CPU threads this process may use, and which device it asks for.

Threads are detected from the process's CPU affinity (what a container, ``taskset`` or a batch scheduler grants,
which can be fewer than the machine's cores); ``CATALOG_ML_THREADS`` or ``--threads N`` overrides it. Every GBM,
scikit-learn estimator and neighbour search reads it, never a constant. The device is ``auto`` unless
``CATALOG_ML_DEVICE`` or ``--device`` says otherwise; ``catalog_ml.nn.device`` turns it into a torch device.
"""

from __future__ import annotations

import os

from catalog_ml.errors import CatalogError

THREADS_VARIABLE = "CATALOG_ML_THREADS"
DEVICE_VARIABLE = "CATALOG_ML_DEVICE"


def available_threads() -> int:
    """CPU threads for this process: ``CATALOG_ML_THREADS`` when set, else the CPUs it may run on."""
    value = os.environ.get(THREADS_VARIABLE, "").strip()
    if value:
        if not value.isdigit() or int(value) < 1:
            raise CatalogError(f"{THREADS_VARIABLE}={value!r}: expected a positive whole number of threads")
        return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def use_threads(threads: int | None) -> None:
    """Set this process's thread count (``--threads``); None keeps the detected one."""
    if threads is not None:
        if threads < 1:
            raise CatalogError(f"--threads {threads}: expected a positive whole number of threads")
        os.environ[THREADS_VARIABLE] = str(threads)


def requested_device() -> str:
    """The device this process was asked for: ``auto`` (the default), ``cpu``, ``cuda`` or ``cuda:N``."""
    return os.environ.get(DEVICE_VARIABLE, "").strip() or "auto"


def use_device(device: str | None) -> None:
    """Set this process's device request (``--device``); None keeps the current one."""
    if device is not None:
        os.environ[DEVICE_VARIABLE] = device
