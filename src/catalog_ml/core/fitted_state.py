"""A fitted model's state as safe files: a JSON tree, numpy arrays (``.npz`` without pickle) and native model files.

Loading never runs code chosen by the file: objects are rebuilt only for classes of the allowed packages (this
package, its approaches, scikit-learn, XGBoost's estimators), without calling their ``__init__`` (``__new__`` and
their attributes, as pickle does, but from an allow-list); LightGBM and XGBoost boosters go through their own model
formats, scikit-learn's compiled parts (a random forest's trees) through skops with a trusted-types list of
scikit-learn and numpy types only. ``catalog_ml.nn`` registers the codec of torch modules and tensors.

skops alone is not used for whole estimators: it took 47.5 s to save one fitted 50k-term ``TfidfVectorizer`` (its
vocabulary dict node by node), which this codec writes in well under a second.
"""

from __future__ import annotations

import builtins
import collections
import importlib
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from catalog_ml.data.spec import DatasetSpec
from catalog_ml.errors import CatalogError

ALLOWED_PACKAGES = ("catalog_ml.", "approaches.", "sklearn.", "xgboost.")
SKOPS_TRUSTED = ("sklearn.", "numpy.", "scipy.", "builtins.")
_BIT_GENERATORS = {"PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"}
_BUILTIN_TYPES = {"float", "int", "str", "bool", "complex", "object"}
_DICT_KINDS = {"dict": dict, "OrderedDict": collections.OrderedDict, "Counter": collections.Counter}
TAG = "$"


class TypeCodec(Protocol):
    """Saves and rebuilds values of one family of types (``catalog_ml.nn`` registers torch's)."""

    tag: str

    def handles(self, value: Any) -> bool: ...

    def encode(self, value: Any, encoder: StateEncoder, where: str) -> dict[str, Any]: ...

    def decode(self, node: dict[str, Any], decoder: StateDecoder) -> Any: ...


_CODECS: dict[str, TypeCodec] = {}


def register_codec(codec: TypeCodec) -> None:
    """Make ``codec`` save and rebuild its types (idempotent)."""
    _CODECS[codec.tag] = codec


@dataclass
class EncodedState:
    """What ``StateEncoder`` produced: the JSON tree, its arrays and its files (bytes by file name)."""

    tree: Any
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)

    def arrays_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays)
        return buffer.getvalue()


def encode_state(value: Any, root: str = "model") -> EncodedState:
    """Encode ``value`` (a model's attributes); a value that cannot be saved safely is a CatalogError naming it.

    An object's attributes named in its class's ``unsaved_attributes`` are saved as None (a cache's folder, a
    factory function that only fitting needs)."""
    encoder = StateEncoder()
    tree = encoder.encode(value, root)
    return EncodedState(tree, encoder.arrays, encoder.files)


def decode_state(state: EncodedState, spec: DatasetSpec) -> Any:
    """Rebuild what ``encode_state`` saved; every ``DatasetSpec`` in it becomes ``spec`` (the loader's)."""
    return StateDecoder(state, spec).decode(state.tree)


def class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


class StateEncoder:
    """Walks a value into a JSON tree, collecting arrays and files."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.files: dict[str, bytes] = {}

    def array(self, values: np.ndarray) -> str:
        name = f"a{len(self.arrays)}"
        self.arrays[name] = values  # np.save keeps Fortran order: BLAS rounds differently by memory layout
        return name

    def file(self, data: bytes, suffix: str) -> str:
        name = f"f{len(self.files)}{suffix}"
        self.files[name] = data
        return name

    def encode(self, value: Any, where: str) -> Any:  # noqa: C901 (one dispatch over the supported types)
        if value is None or isinstance(value, bool | int | float | str) and not isinstance(value, np.generic):
            return value
        if isinstance(value, DatasetSpec):
            return {TAG: "spec"}
        if isinstance(value, logging.Logger):
            return {TAG: "logger", "name": value.name}
        if isinstance(value, PurePath):
            return {TAG: "path", "value": str(value)}
        for codec in _CODECS.values():
            if codec.handles(value):
                return {TAG: codec.tag, **codec.encode(value, self, where)}
        if isinstance(value, np.random.Generator | np.random.RandomState):
            generator = value.bit_generator if isinstance(value, np.random.Generator) else value._bit_generator
            return {TAG: "random", "legacy": isinstance(value, np.random.RandomState),
                    "state": self.encode(generator.state, f"{where}.state")}
        if isinstance(value, np.generic):
            return {TAG: "scalar", "dtype": value.dtype.str, "value": value.item()}
        if isinstance(value, np.ndarray):
            return self._array_node(value, where)
        if isinstance(value, np.dtype):
            return {TAG: "dtype", "descr": _dtype_description(value, where)}
        if sp.issparse(value):
            csr = value if value.format in ("csr", "csc") else value.tocsr()
            return {TAG: "sparse", "format": csr.format, "shape": list(csr.shape), "data": self.array(csr.data),
                    "indices": self.array(csr.indices), "indptr": self.array(csr.indptr)}
        if isinstance(value, pd.DataFrame | pd.Series):
            return self._frame_node(value, where)
        if isinstance(value, pd.Index):
            return {TAG: "index", "name": self.encode(value.name, where), "values": self._array_node(
                value.to_numpy(), f"{where}.index")}
        if isinstance(value, list):
            return [self.encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
        if isinstance(value, tuple | set | frozenset):
            items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
            return {TAG: type(value).__name__, "items": [self.encode(item, f"{where}[{i}]")
                                                         for i, item in enumerate(items)]}
        if isinstance(value, dict):
            return self._dict_node(value, where)
        if isinstance(value, type):
            return {TAG: "type", "name": _type_name(value, where)}
        module = type(value).__module__
        if module == "lightgbm.basic" and type(value).__name__ == "Booster":
            return {TAG: "lightgbm", "file": self.file(value.model_to_string().encode(), ".lgb.txt"),
                    "best_iteration": int(value.best_iteration)}
        if module == "xgboost.core" and type(value).__name__ == "Booster":
            return {TAG: "xgboost", "file": self.file(bytes(value.save_raw("ubj")), ".xgb.ubj")}
        if module.startswith(ALLOWED_PACKAGES) and hasattr(value, "__dict__") and not callable(value):
            return self._object_node(value, where)
        if module.startswith("sklearn."):  # compiled parts (a forest's trees): skops, scikit-learn's safe format
            import skops.io

            return {TAG: "skops", "file": self.file(skops.io.dumps(value), ".skops")}
        raise CatalogError(f"{where}: a {type(value).__module__}.{type(value).__qualname__} cannot be saved safely")

    def _array_node(self, values: np.ndarray, where: str) -> dict[str, Any]:
        if values.dtype != object:
            _dtype_description(values.dtype, where)
            return {TAG: "array", "name": self.array(values)}
        flat = values.ravel().tolist()
        if all(isinstance(item, str) for item in flat):
            return {TAG: "object_array", "name": self.array(values.astype(str)), "kind": "str"}
        return {TAG: "object_array", "shape": list(values.shape),
                "items": [self.encode(item, f"{where}[{i}]") for i, item in enumerate(flat)]}

    def _frame_node(self, value: pd.DataFrame | pd.Series, where: str) -> dict[str, Any]:
        frame = value.to_frame("values") if isinstance(value, pd.Series) else value
        if not all(isinstance(column, str) for column in frame.columns):
            raise CatalogError(f"{where}: a table with non-text column names cannot be saved")
        buffer = io.BytesIO()
        try:
            frame.to_parquet(buffer, index=True)
        except Exception as error:  # pyarrow refuses mixed-type columns with several error types
            raise CatalogError(f"{where}: table cannot be saved as parquet ({error})") from None
        node = {TAG: "frame", "file": self.file(buffer.getvalue(), ".parquet")}
        if isinstance(value, pd.Series):
            node.update(series=True, name=self.encode(value.name, where))
        return node

    def _dict_node(self, value: dict, where: str) -> dict[str, Any]:
        kind = type(value).__name__
        if kind not in _DICT_KINDS:
            raise CatalogError(f"{where}: a {type(value).__qualname__} cannot be saved safely")
        keys = list(value)
        if keys and all(isinstance(k, str) for k in keys) and all(
                isinstance(v, int | np.integer) and not isinstance(v, bool) for v in value.values()):
            # vocabularies: hundreds of thousands of terms, one node each would be slow
            numbers = list(value.values())
            array = np.asarray(numbers)
            if array.dtype != object:  # else integers beyond 64 bits (a random generator's state)
                return {TAG: "str_int_dict", "kind": kind, "keys": keys, "values": self.array(array),
                        "numpy": isinstance(numbers[0], np.integer)}
        return {TAG: "dict", "kind": kind, "items": [[self.encode(k, f"{where} key"), self.encode(v, f"{where}[{k!r}]")]
                                                     for k, v in value.items()]}

    def _object_node(self, value: Any, where: str) -> dict[str, Any]:
        cls = type(value)
        if "<locals>" in cls.__qualname__:
            raise CatalogError(f"{where}: an instance of a class defined inside a function cannot be saved")
        unsaved = set(getattr(cls, "unsaved_attributes", ()))
        state = {name: (None if name in unsaved else self.encode(item, f"{where}.{name}"))
                 for name, item in vars(value).items()}
        return {TAG: "object", "class": class_path(cls), "state": state}


class StateDecoder:
    """Rebuilds values from a JSON tree, its arrays and files."""

    def __init__(self, state: EncodedState, spec: DatasetSpec) -> None:
        self.state = state
        self.spec = spec

    def array(self, name: str) -> np.ndarray:
        try:
            return self.state.arrays[name]
        except KeyError:
            raise CatalogError(f"saved model: array {name!r} is missing") from None

    def file(self, name: str) -> bytes:
        try:
            return self.state.files[name]
        except KeyError:
            raise CatalogError(f"saved model: file {name!r} is missing") from None

    def decode(self, node: Any) -> Any:  # noqa: C901 (the mirror of StateEncoder.encode)
        if isinstance(node, list):
            return [self.decode(item) for item in node]
        if not isinstance(node, dict):
            return node
        tag = node.get(TAG)
        simple: dict[str, Callable[[], Any]] = {
            "spec": lambda: self.spec,
            "logger": lambda: logging.getLogger(node["name"]),
            "path": lambda: Path(node["value"]),
            "scalar": lambda: np.dtype(node["dtype"]).type(node["value"]),
            "array": lambda: self.array(node["name"]),
            "dtype": lambda: np.dtype(_dtype_from_description(node["descr"])),
            "tuple": lambda: tuple(self.decode(node["items"])),
            "set": lambda: set(self.decode(node["items"])),
            "frozenset": lambda: frozenset(self.decode(node["items"])),
            "type": lambda: _type_from_name(node["name"]),
        }
        if tag in simple:
            return simple[tag]()
        if tag in _CODECS:
            return _CODECS[tag].decode(node, self)
        if tag == "object_array":
            if "name" in node:
                return self.array(node["name"]).astype(object)
            items = np.empty(len(node["items"]), dtype=object)
            items[:] = [self.decode(item) for item in node["items"]]
            return items.reshape(node["shape"])
        if tag == "random":
            return _random_generator(self.decode(node["state"]), node["legacy"])
        if tag == "sparse":
            matrix_class = sp.csr_matrix if node["format"] == "csr" else sp.csc_matrix
            return matrix_class((self.array(node["data"]), self.array(node["indices"]), self.array(node["indptr"])),
                                shape=tuple(node["shape"]))
        if tag == "frame":
            frame = pd.read_parquet(io.BytesIO(self.file(node["file"])))
            return frame["values"].rename(self.decode(node["name"])) if node.get("series") else frame
        if tag == "index":
            return pd.Index(self.decode(node["values"]), name=self.decode(node["name"]))
        if tag == "str_int_dict":
            values = self.array(node["values"])
            values = list(values) if node["numpy"] else values.tolist()
            # through a dict: Counter(pairs) would count the pairs
            return _DICT_KINDS[node["kind"]](dict(zip(node["keys"], values, strict=True)))
        if tag == "dict":
            return _DICT_KINDS[node["kind"]]({self.decode(k): self.decode(v) for k, v in node["items"]})
        if tag == "lightgbm":
            import lightgbm

            booster = lightgbm.Booster(model_str=self.file(node["file"]).decode())
            booster.best_iteration = node["best_iteration"]
            return booster
        if tag == "xgboost":
            import xgboost

            booster = xgboost.Booster()
            booster.load_model(bytearray(self.file(node["file"])))
            return booster
        if tag == "skops":
            return _skops_load(self.file(node["file"]))
        if tag == "object":
            cls = allowed_class(node["class"])
            instance = cls.__new__(cls)
            vars(instance).update({name: self.decode(item) for name, item in node["state"].items()})
            return instance
        raise CatalogError(f"saved model: unknown node {tag!r} (saved by another version of catalog_ml?)")


def allowed_class(path: str, packages: tuple[str, ...] = ALLOWED_PACKAGES) -> type:
    """The class named ``module:qualname`` when its module belongs to ``packages``; a CatalogError otherwise."""
    module_name, _, qualname = path.partition(":")
    if not module_name.startswith(packages) or not qualname or "<" in qualname:
        raise CatalogError(f"saved model names class {path!r}, which is not allowed to be loaded")
    try:
        found: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as error:
        raise CatalogError(f"saved model names class {path!r}, which does not exist here ({error})") from None
    if not isinstance(found, type) or found.__module__ != module_name:
        raise CatalogError(f"saved model names {path!r}, which is not a class of that module")
    return found


def _random_generator(state: dict[str, Any], legacy: bool) -> np.random.Generator | np.random.RandomState:
    name = state.get("bit_generator")
    if name not in _BIT_GENERATORS:
        raise CatalogError(f"saved model names random generator {name!r}, which is not allowed to be loaded")
    bit_generator = getattr(np.random, name)()
    bit_generator.state = state
    return np.random.RandomState(bit_generator) if legacy else np.random.Generator(bit_generator)


def _type_name(value: type, where: str) -> str:
    if value.__module__ == "numpy" and issubclass(value, np.generic):
        return f"numpy.{value.__name__}"
    if value.__module__ == "builtins" and value.__name__ in _BUILTIN_TYPES:
        return f"builtins.{value.__name__}"
    raise CatalogError(f"{where}: the type {value.__qualname__} cannot be saved")


def _type_from_name(name: str) -> type:
    module, _, attribute = name.partition(".")
    found = getattr(np if module == "numpy" else builtins, attribute, None)
    if not isinstance(found, type) or (module == "numpy" and not issubclass(found, np.generic)) or (
            module == "builtins" and attribute not in _BUILTIN_TYPES) or module not in ("numpy", "builtins"):
        raise CatalogError(f"saved model names type {name!r}, which is not allowed to be loaded")
    return found


def _dtype_description(dtype: np.dtype, where: str) -> Any:
    if dtype.hasobject:
        raise CatalogError(f"{where}: arrays of Python objects inside records cannot be saved")
    return dtype.descr if dtype.fields else dtype.str


def _dtype_from_description(description: Any) -> Any:
    return [tuple(item) for item in description] if isinstance(description, list) else description


def _skops_load(data: bytes) -> Any:
    import skops.io

    untrusted = skops.io.get_untrusted_types(data=data)
    refused = [name for name in untrusted if not name.startswith(SKOPS_TRUSTED)]
    if refused:
        raise CatalogError(f"saved model holds types that are not trusted: {', '.join(refused)}")
    return skops.io.loads(data, trusted=untrusted)
