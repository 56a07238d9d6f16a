"""Approach settings as frozen dataclasses: defaults, then a YAML file, then ``--set key=value``, typed and checked."""

from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from catalog_ml.errors import CatalogError

T = TypeVar("T")


def build_config(config_class: type, file: Path | None = None, overrides: list[str] | None = None) -> Any:
    """An instance of ``config_class``: defaults, updated by a YAML file, then by ``key=value`` strings.

    Settings that are not given keep their defaults; unknown keys and values of the wrong type are errors.
    """
    values: dict[str, Any] = {}
    if file is not None:
        values.update(_read_yaml(Path(file)))
    for item in overrides or []:
        if "=" not in item:
            raise CatalogError(f"--set expects key=value, got {item!r}")
        key, raw = item.split("=", 1)
        values[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
    return config_from_dict(config_class, values)


def config_from_dict(config_class: type, values: dict[str, Any]) -> Any:
    """An instance of ``config_class`` from plain values (a saved config), typed and checked like ``--set``."""
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = [key for key in values if key not in fields]
    if unknown:
        raise CatalogError(f"unknown setting(s) {', '.join(unknown)} (known: {', '.join(fields)})")
    hints = typing.get_type_hints(config_class)
    converted = {key: _coerce(key, value, hints[key]) for key, value in values.items()}
    return config_class(**converted)


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise CatalogError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CatalogError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise CatalogError(f"{path}: expected a mapping of setting names to values")
    return data


def _coerce(key: str, value: Any, hint: Any) -> Any:
    origin = typing.get_origin(hint)
    arguments = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in arguments:
            return None
        options = [a for a in arguments if a is not type(None)]
        return _coerce(key, value, options[0])
    if origin is tuple:
        items = value if isinstance(value, list | tuple) else [value]
        return tuple(_coerce(key, item, arguments[0]) for item in items)
    if origin is typing.Literal:
        if value not in arguments:
            raise CatalogError(f"setting {key}: {value!r} is not one of {', '.join(map(repr, arguments))}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise CatalogError(f"setting {key}: expected true or false, got {value!r}")
        return value
    if hint in (int, float):
        if isinstance(value, bool) or not isinstance(value, int | float) or (hint is int and value != int(value)):
            raise CatalogError(f"setting {key}: expected {hint.__name__}, got {value!r}")
        return hint(value)
    if hint is str:
        return str(value)
    return value


def describe_settings(config_class: type) -> str:
    """One line per setting: name, default, help. Used in every approach's ``--help``."""
    lines = []
    for f in dataclasses.fields(config_class):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        lines.append(f"  {f.name} = {default!r}: {f.metadata.get('help', '')}")
    return "\n".join(lines)


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as plain data (tuples become lists) for JSON."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()}


def shared_settings(settings_class: type[T], config: Any, **overrides: Any) -> T:
    """A settings dataclass built from the fields an approach's config shares with it (same names), then
    ``overrides``; the other fields keep their defaults."""
    shared = {f.name: getattr(config, f.name) for f in dataclasses.fields(settings_class) if hasattr(config, f.name)}
    return settings_class(**{**shared, **overrides})
