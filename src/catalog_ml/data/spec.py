"""Dataset specs: a small declarative YAML file that says what every column is and where the files are.

A spec is either a built-in name (``amazon2025``: the competition format) or a path to a YAML file. Relative paths in
a spec file are resolved against the folder holding the file; for built-in specs, against the working directory.
"""

from __future__ import annotations

import codecs
import dataclasses
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name

TASKS = ("regression", "classification")
METRICS_BY_TASK = {
    "regression": ("smape", "mae_log1p"),
    "classification": ("accuracy", "macro_f1", "weighted_f1", "log_loss"),
}
TEXT_FORMATS = ("plain", "catalog_content")
IMAGE_NAMING_RULES = ("url_basename", "template")


@dataclass(frozen=True)
class DatasetSpec:
    """What a product table holds and where its files are. See ``src/catalog_ml/data/specs/amazon2025.yaml``."""

    name: str
    id_column: str
    target: str
    task: str = "regression"
    metric: str = "smape"
    text_columns: tuple[str, ...] = ()
    text_format: str = "plain"
    categorical_columns: tuple[str, ...] = ()
    numeric_columns: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    group_columns: tuple[str, ...] = ()
    image_column: str | None = None
    image_naming: str = "url_basename"
    image_template: str = "{id}.jpg"
    root: str = "."
    train_file: str = "train.csv"
    test_file: str | None = "test.csv"
    image_dir: str | None = None
    folds_file: str = "folds.csv"
    separator: str | None = None  # None: tab for .tsv files, comma otherwise
    encoding: str | None = None  # None: UTF-8, else the detected encoding (reported)
    drop_target_below: float | None = None
    allow_empty_text: bool | None = None  # None: empty texts are missing values (counted); false: refused
    drop_missing_target: bool = False
    base_dir: Path = field(default=Path("."), compare=False, repr=False)

    def path(self, relative: str) -> Path:
        """Resolve a path named in the spec against the spec's root folder."""
        candidate = Path(relative).expanduser()
        if candidate.is_absolute():
            return candidate
        return (self.base_dir / self.root / candidate).resolve()

    @property
    def train_path(self) -> Path:
        return self.path(self.train_file)

    @property
    def test_path(self) -> Path | None:
        return self.path(self.test_file) if self.test_file else None

    @property
    def folds_path(self) -> Path:
        return self.path(self.folds_file)

    @property
    def image_path(self) -> Path | None:
        return self.path(self.image_dir) if self.image_dir else None

    @property
    def feature_columns(self) -> tuple[str, ...]:
        """Every input column the approaches may read (text, categorical, numeric, image)."""
        image = (self.image_column,) if self.image_column else ()
        return self.text_columns + self.categorical_columns + self.numeric_columns + image

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (for the effective config saved with each run)."""
        payload = dataclasses.asdict(self)
        payload.pop("base_dir")
        return {key: list(value) if isinstance(value, tuple) else value for key, value in payload.items()}

    def with_root(self, root: str | Path) -> DatasetSpec:
        """The same spec reading its files from another root folder."""
        return dataclasses.replace(self, root=str(Path(root).expanduser().resolve()))


_FIELD_TYPES = {f.name: f.type for f in dataclasses.fields(DatasetSpec) if f.name != "base_dir"}
_REQUIRED = ("name", "id_column", "target")


def builtin_spec_names() -> list[str]:
    """Names of the specs shipped inside the package."""
    folder = resources.files("catalog_ml.data") / "specs"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_spec(name_or_path: str | Path, root: str | Path | None = None) -> DatasetSpec:
    """Load a built-in spec by name or a spec YAML file by path, validate it, and optionally override its root."""
    text, source, base_dir = _read_spec_text(str(name_or_path))
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(f"{source}: not valid YAML ({str(error).splitlines()[0]})") from None
    spec = spec_from_mapping(raw, source=source, base_dir=base_dir)
    return spec.with_root(root) if root is not None else spec


def _read_spec_text(name_or_path: str) -> tuple[str, str, Path]:
    candidate = Path(name_or_path).expanduser()
    if candidate.suffix in (".yaml", ".yml") or candidate.exists():
        if not candidate.is_file():
            raise CatalogError(f"{candidate}: dataset spec file not found")
        return candidate.read_text(encoding="utf-8"), str(candidate), candidate.resolve().parent
    if name_or_path in builtin_spec_names():
        resource = resources.files("catalog_ml.data") / "specs" / f"{name_or_path}.yaml"
        return resource.read_text(encoding="utf-8"), f"built-in spec '{name_or_path}'", Path.cwd()
    raise CatalogError(
        f"dataset '{name_or_path}' is neither a spec file nor a built-in spec "
        f"(built-in: {', '.join(builtin_spec_names())})"
    )


def spec_from_mapping(raw: Any, source: str = "spec", base_dir: Path | None = None) -> DatasetSpec:
    """Build and validate a DatasetSpec from parsed YAML; every problem is one line naming the key."""
    if not isinstance(raw, dict):
        raise CatalogError(f"{source}: expected a mapping of keys to values at the top level")
    known = ", ".join(_FIELD_TYPES)
    problems = [f"{source}: unknown key '{key}' (known: {known})" for key in raw if key not in _FIELD_TYPES]
    problems += [f"{source}: required key '{key}' is missing" for key in _REQUIRED if key not in raw]
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in _FIELD_TYPES:
            continue
        converted, problem = _convert(key, value, str(_FIELD_TYPES[key]))
        if problem:
            problems.append(f"{source}: key '{key}' {problem}")
        else:
            values[key] = converted
    if problems:
        raise CatalogError(*problems)
    if values.get("task") in METRICS_BY_TASK and "metric" not in values:
        values["metric"] = METRICS_BY_TASK[values["task"]][0]  # smape, or accuracy for classification
    spec = DatasetSpec(**values, base_dir=base_dir or Path.cwd())
    _check_consistency(spec, source)
    return spec


def _convert(key: str, value: Any, type_name: str) -> tuple[Any, str | None]:
    if "tuple" in type_name:
        if isinstance(value, str):
            value = [value]
        if value is None:
            value = []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return None, "must be a list of column names"
        return tuple(value), None
    if value is None:
        return (None, None) if "None" in type_name else (None, "must not be empty")
    if type_name.startswith("bool"):
        return (value, None) if isinstance(value, bool) else (None, f"must be true or false, got {value!r}")
    if "float" in type_name:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"must be a number, got {value!r}"
        return float(value), None
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        return None, f"must be a non-empty string, got {value!r}"
    return str(value), None


def _check_consistency(spec: DatasetSpec, source: str) -> None:
    problems = []
    try:
        check_name(spec.name, "name")
    except CatalogError as error:
        problems.append(f"{source}: key {error.problems[0]}")
    if spec.encoding is not None:
        try:
            codecs.lookup(spec.encoding)
        except LookupError:
            problems.append(f"{source}: encoding '{spec.encoding}' is not a known text encoding")
    if spec.task not in TASKS:
        problems.append(f"{source}: task '{spec.task}' is not one of {', '.join(TASKS)}")
    elif spec.metric not in METRICS_BY_TASK[spec.task]:
        allowed = ", ".join(METRICS_BY_TASK[spec.task])
        problems.append(f"{source}: metric '{spec.metric}' does not fit task '{spec.task}' (use one of {allowed})")
    if spec.text_format not in TEXT_FORMATS:
        problems.append(f"{source}: text_format '{spec.text_format}' is not one of {', '.join(TEXT_FORMATS)}")
    if spec.image_naming not in IMAGE_NAMING_RULES:
        problems.append(f"{source}: image_naming '{spec.image_naming}' is not one of {', '.join(IMAGE_NAMING_RULES)}")
    if spec.image_naming == "template" and "{id}" not in spec.image_template:
        problems.append(f"{source}: image_template '{spec.image_template}' must contain '{{id}}'")
    if not spec.text_columns and not spec.categorical_columns and not spec.numeric_columns:
        problems.append(f"{source}: name at least one text, categorical or numeric column")
    named = [spec.id_column, spec.target, *spec.feature_columns]
    repeated = sorted({c for c in named if named.count(c) > 1})
    if repeated:
        problems.append(f"{source}: column(s) {', '.join(repeated)} named more than once")
    if problems:
        raise CatalogError(*problems)
