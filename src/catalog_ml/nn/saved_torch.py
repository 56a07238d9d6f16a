"""Torch modules and tensors in a saved model: parameters and buffers as arrays, the module tree as data.

A module is rebuilt from its class (torch's own layers or this package's) by ``nn.Module.__init__`` and its saved
attributes, parameters, buffers and children, never by running its constructor or unpickling.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

from catalog_ml.core.fitted_state import StateDecoder, StateEncoder, allowed_class, class_path
from catalog_ml.errors import CatalogError

MODULE_PACKAGES = ("torch.nn.modules.", "catalog_ml.", "approaches.")


@cache
def _module_internals() -> frozenset[str]:
    """The attributes ``nn.Module.__init__`` creates (hooks, registries): rebuilt, never saved."""
    import torch

    return frozenset(vars(torch.nn.Module()))


def _is_module(value: Any) -> bool:
    return any(c.__module__ == "torch.nn.modules.module" and c.__name__ == "Module" for c in type(value).__mro__)


def _is_tensor(value: Any) -> bool:
    return any(c.__module__ == "torch" and c.__name__ == "Tensor" for c in type(value).__mro__)


class TorchTensorCodec:
    """A tensor (or parameter) as a numpy array; bfloat16, which numpy lacks, travels as float32."""

    tag = "torch_tensor"

    def handles(self, value: Any) -> bool:
        return _is_tensor(value)

    def encode(self, value: Any, encoder: StateEncoder, where: str) -> dict[str, Any]:
        import torch

        tensor = value.detach().cpu()
        dtype = str(tensor.dtype).removeprefix("torch.")
        values = tensor.float().numpy() if tensor.dtype == torch.bfloat16 else tensor.numpy()
        return {"name": encoder.array(values), "dtype": dtype, "parameter": isinstance(value, torch.nn.Parameter),
                "requires_grad": bool(value.requires_grad)}

    def decode(self, node: dict[str, Any], decoder: StateDecoder) -> Any:
        import torch

        dtype = getattr(torch, node["dtype"], None)
        if not isinstance(dtype, torch.dtype):
            raise CatalogError(f"saved model: unknown tensor type {node['dtype']!r}")
        tensor = torch.from_numpy(np.array(decoder.array(node["name"]))).to(dtype)
        if node["parameter"]:
            return torch.nn.Parameter(tensor, requires_grad=node["requires_grad"])
        return tensor.requires_grad_(node["requires_grad"]) if tensor.is_floating_point() else tensor


class TorchModuleCodec:
    """A module: its class, training flag, parameters, buffers (persistent or not), children and own attributes."""

    tag = "torch_module"

    def handles(self, value: Any) -> bool:
        return _is_module(value)

    def encode(self, value: Any, encoder: StateEncoder, where: str) -> dict[str, Any]:
        cls = type(value)
        if not cls.__module__.startswith(MODULE_PACKAGES) or "<locals>" in cls.__qualname__:
            raise CatalogError(f"{where}: a {class_path(cls)} module cannot be saved safely")
        attributes = {name: encoder.encode(item, f"{where}.{name}") for name, item in vars(value).items()
                      if name not in _module_internals() and name != "training"}
        return {
            "class": class_path(cls), "training": bool(value.training), "attributes": attributes,
            "parameters": {name: encoder.encode(p, f"{where}.{name}") for name, p in value._parameters.items()},
            "buffers": {name: encoder.encode(b, f"{where}.{name}") for name, b in value._buffers.items()},
            "non_persistent": sorted(value._non_persistent_buffers_set),
            "children": {name: encoder.encode(m, f"{where}.{name}") for name, m in value._modules.items()},
        }

    def decode(self, node: dict[str, Any], decoder: StateDecoder) -> Any:
        import torch

        cls = allowed_class(node["class"], MODULE_PACKAGES)
        if not issubclass(cls, torch.nn.Module):
            raise CatalogError(f"saved model: {node['class']} is not a torch module")
        module = cls.__new__(cls)
        torch.nn.Module.__init__(module)
        vars(module).update({name: decoder.decode(item) for name, item in node["attributes"].items()})
        module.training = node["training"]
        module._parameters.update({name: decoder.decode(p) for name, p in node["parameters"].items()})
        module._buffers.update({name: decoder.decode(b) for name, b in node["buffers"].items()})
        module._non_persistent_buffers_set.update(node["non_persistent"])
        module._modules.update({name: decoder.decode(m) for name, m in node["children"].items()})
        return module
