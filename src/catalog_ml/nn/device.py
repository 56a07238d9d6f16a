"""The torch device every network, embedding and trainer uses: the user's choice, else a GPU when there is one.

``--device`` (or ``CATALOG_ML_DEVICE``) is ``auto`` (a CUDA GPU when torch can use one, else the CPU), ``cuda``,
``cuda:N`` or ``cpu``. Asking for CUDA where torch has none is one clear error, never a traceback deep in a run.
Under ``torchrun`` each process takes the GPU of its ``LOCAL_RANK``.
"""

from __future__ import annotations

import os
from contextlib import AbstractContextManager, nullcontext

import torch

from catalog_ml.core.resources import available_threads, requested_device
from catalog_ml.errors import CatalogError


def use_torch_threads() -> None:
    """Torch's CPU threads = this process's share (``--threads``, or threads / jobs in a fold job): its own default
    is every core of the machine, which oversubscribes the CPUs when jobs run side by side."""
    threads = available_threads()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def torch_device(requested: str | None = None) -> torch.device:
    """The device for ``requested`` (default: the process's ``--device`` setting, ``auto``); sets torch's CPU
    threads to the process's share first."""
    use_torch_threads()
    name = (requested or requested_device()).strip().lower()
    rank_gpu = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    if name == "auto":
        return rank_gpu if torch.cuda.is_available() else torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            built = f"built for CUDA {torch.version.cuda}" if torch.version.cuda else "a CPU-only build"
            raise CatalogError(f"--device {name}: torch {torch.__version__} ({built}) sees no CUDA GPU here; use "
                               "--device cpu, or on a GPU machine install the CUDA build of torch")
        return torch.device(name) if ":" in name else rank_gpu
    if name == "cpu":
        return torch.device("cpu")
    raise CatalogError(f"--device {name}: use auto, cpu, cuda or cuda:N")


def inference_autocast(device: torch.device) -> AbstractContextManager:
    """Mixed precision for frozen inference: bf16 (or fp16) on a GPU, bf16 on CPUs with native bf16, else none."""
    if device.type == "cuda":
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.autocast("cuda", dtype=dtype)
    from catalog_ml.nn.precision import cpu_has_native_bf16

    return torch.autocast("cpu", dtype=torch.bfloat16) if cpu_has_native_bf16() else nullcontext()
