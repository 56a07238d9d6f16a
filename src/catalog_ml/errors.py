"""The one exception type that carries user-facing problems."""

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
