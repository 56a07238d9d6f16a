"""A blend's final blender saved beside its report (``BlendPaths.blender``), so that ``predict`` can apply it.

The manifest names the member runs in the order the blender reads them (and whether seed runs were averaged), the
method, the dataset, its fold hash and task; the blender's fitted weights, scale and level-2 model are saved through
``core.fitted_state`` like a fold model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catalog_ml.blend.nested import BlendEvaluation
from catalog_ml.core.fitted_state import decode_state, encode_state
from catalog_ml.core.saved_models import SavedModel, manifest_header, read_manifest, read_state
from catalog_ml.data.spec import DatasetSpec
from catalog_ml.errors import CatalogError


def encode_blend(evaluation: BlendEvaluation, run_dirs: list[Path], average_seeds: bool, spec: DatasetSpec,
                 fold_hash: str, classes: tuple[str, ...]) -> SavedModel:
    """The final blender of ``evaluation`` with what applying it to a new table needs."""
    manifest = {
        **manifest_header(), "kind": "blend", "method": evaluation.method, "final_method": evaluation.final_method,
        "objective": evaluation.objective, "runs": [Path(d).name for d in run_dirs],
        "run_folders": [str(Path(d).resolve()) for d in run_dirs], "average_seeds": average_seeds,
        "dataset": spec.name, "task": spec.task, "fold_hash": fold_hash, "classes": list(classes),
    }
    return SavedModel(manifest, encode_state(evaluation.final, "blender"))


def load_blender(folder: Path, spec: DatasetSpec) -> tuple[dict[str, Any], Any]:
    """(manifest, fitted blender or None for a single run) of a saved blend, checked like a fold model."""
    manifest = read_manifest(folder)
    if manifest.get("kind") != "blend":
        raise CatalogError(f"{folder}: not a saved blend")
    return manifest, decode_state(read_state(folder, manifest), spec)
