"""What a run call asks for (``RunRequest``) and what it produced (``RunResult``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from catalog_ml.core.approach import Approach
from catalog_ml.core.run_files import RunPaths
from catalog_ml.core.uncertainty import ScoreUncertainty


@dataclass(frozen=True)
class RunRequest:
    """One approach run: which approach and settings, which folds, where outputs go."""

    approach: type[Approach]
    config: Any
    output_root: Path = Path("runs")
    seed: int = 42
    folds: tuple[int, ...] | None = None
    tag: str | None = None
    overwrite: bool = False
    cache_dir: Path = Path("cache")
    progress: bool = True
    jobs: int = 1  # folds fitted side by side, each in its own process with threads / jobs
    wait: bool = False  # another process writing the same run folder: wait for it instead of refusing
    save_models: bool | None = None  # keep each fold's fitted model (None: the approach's default)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def run_name(self) -> str:
        return f"{self.approach.name}-{self.tag}" if self.tag else self.approach.name

    @property
    def saves_models(self) -> bool:
        return self.approach.saves_models if self.save_models is None else self.save_models


@dataclass(frozen=True)
class RunResult:
    """What a finished run call produced."""

    paths: RunPaths
    scores: pd.DataFrame
    complete: bool
    skipped_folds: tuple[int, ...]
    uncertainty: ScoreUncertainty | None = None  # the complete run's CV score with its standard error
    not_run: tuple[int, ...] = ()  # folds left out because the time limit would have been passed


def is_main_process() -> bool:
    """False in the other ranks of a ``torchrun`` launch: only rank 0 writes run files."""
    return os.environ.get("RANK", "0") == "0"
