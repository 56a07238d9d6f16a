"""Numeric precision choices for torch work: where bf16 autocast pays on CPU."""

from __future__ import annotations


def cpu_has_native_bf16() -> bool:
    """True on CPUs with AVX512-BF16 or AMX tiles, where bf16 autocast speeds inference up."""
    import torch

    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)
