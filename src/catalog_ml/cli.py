"""The ``catalog-ml`` command: list, check, folds, run, submit, validate-submission, demo-data, demo."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from catalog_ml.tracking import start_early

COMMANDS_HELP = """commands:
  list                  registered approaches and built-in dataset specs
  check                 load and validate a dataset; print a summary
  folds                 make the dataset's fold file (once)
  run NAME              run one approach on the shared folds (catalog-ml run NAME --help lists its settings)
  download-images       fetch a dataset's images (catalog-ml download-images --help)
  blend                 blend runs (honest nested score) into a submission (catalog-ml blend --help)
  submit                write a validated submission from a run's test predictions
  validate-submission   check any submission file against a test file
  embed                 frozen image (EfficientNet-Lite0, CLIP...) or text embeddings
  explain NAME          feature importance and SHAP contributions of lgbm_fusion / xgb_spacy
  explain-images        Grad-CAM heatmaps over the best and worst predicted product photos
  embedding-map         PCA and t-SNE maps of an embedding table, coloured by price or category
  rank-labels           active learning: which unlabelled rows to label next
  cache                 sizes of the cache folder's parts; prune its per-fold fitted arrays
  demo-data             write the generated demo catalogue
  demo                  the whole pipeline on the demo catalogue
"""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``catalog-ml`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("run", "blend"):
        start_early(argv[1:])  # before the heavy imports below, so MLflow's import overlaps them
    if argv and argv[0] == "run":
        if len(argv) < 2 or argv[1].startswith("-"):
            from catalog_ml.registry import approach_names

            print(f"usage: catalog-ml run NAME [options]; approaches: {', '.join(approach_names())}",
                  file=sys.stderr)
            return 2
        from catalog_ml.cli_run import approach_main

        return approach_main(argv[1], argv[2:])
    if argv and argv[0] == "download-images":
        from catalog_ml.cli_download import main as download_main

        return download_main(argv[1:])
    if argv and argv[0] == "blend":
        from catalog_ml.cli_blend import main as blend_main

        return blend_main(argv[1:])
    from catalog_ml.cli_common import configure_logging, guarded

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    configure_logging(getattr(args, "verbose", False))
    return guarded(lambda: args.handler(args))


def build_parser() -> argparse.ArgumentParser:
    from catalog_ml import commands
    from catalog_ml.cli_common import add_dataset_arguments

    parser = argparse.ArgumentParser(prog="catalog-ml", description="Multimodal product pricing kit.",
                                     epilog=COMMANDS_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(metavar="COMMAND")

    listing = sub.add_parser("list", help="registered approaches and built-in specs")
    listing.set_defaults(handler=commands.list_command)

    check = sub.add_parser("check", help="load and validate a dataset")
    add_dataset_arguments(check)
    check.set_defaults(handler=commands.check_command)

    folds = sub.add_parser("folds", help="make the fold file (group-aware, stratified on log-price bins)")
    add_dataset_arguments(folds)
    folds.add_argument("--n-folds", type=int, default=5)
    folds.add_argument("--seed", type=int, default=42)
    folds.add_argument("--bins", type=int, default=10, help="log-price quantile bins to stratify on")
    folds.add_argument("--no-image-groups", action="store_true", help="do not group rows with identical images")
    folds.add_argument("--force", action="store_true", help="replace an existing fold file (runs made on the old "
                                                            "folds will be refused by the ensembler)")
    folds.set_defaults(handler=commands.folds_command)

    submit = sub.add_parser("submit", help="write a submission from a run's test predictions")
    add_dataset_arguments(submit)
    submit.add_argument("--run", type=Path, required=True, help="run folder (runs/DATASET/RUN)")
    submit.add_argument("--out", type=Path, default=None, help="default: submissions/DATASET_RUN.csv")
    submit.add_argument("--full", action="store_true", help="use the fold -1 model (fitted on all rows)")
    submit.set_defaults(handler=commands.submit_command)

    validate = sub.add_parser("validate-submission", help="check a submission file against a test file")
    validate.add_argument("file", type=Path)
    validate.add_argument("--dataset", default="amazon2025", help="spec naming the test file and columns")
    validate.add_argument("--data-root", type=Path, default=None)
    validate.add_argument("--test", type=Path, default=None, help="test CSV (overrides the spec's test file)")
    validate.set_defaults(handler=commands.validate_submission_command)

    from catalog_ml.cli_embed import add_embed_parser

    add_embed_parser(sub)
    from catalog_ml.cli_active import add_rank_parser

    add_rank_parser(sub)
    from catalog_ml.cli_explain import add_explain_parser

    add_explain_parser(sub)
    from catalog_ml.cli_cache import add_cache_parser

    add_cache_parser(sub)

    demo_data = sub.add_parser("demo-data", help="write the generated demo catalogue")
    _add_demo_data_arguments(demo_data)
    demo_data.set_defaults(handler=commands.demo_data_command)

    demo = sub.add_parser("demo", help="generate demo data, make folds, run approaches, write a submission")
    _add_demo_data_arguments(demo)
    demo.add_argument("--approaches", default="median_baseline,tfidf_ridge,lgbm_fusion",
                      help="comma-separated approaches")
    demo.add_argument("--runs-dir", type=Path, default=Path("runs"))
    demo.add_argument("--submissions-dir", type=Path, default=Path("submissions"))
    demo.set_defaults(handler=commands.demo_command)
    return parser


def _add_demo_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=Path("data/demo"), help="output folder")
    parser.add_argument("--train-rows", type=int, default=3000)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-images", action="store_true", help="skip image rendering (large scale tests)")
    parser.add_argument("--regenerate", action="store_true", help="rewrite the data even if it exists")



if __name__ == "__main__":
    raise SystemExit(main())
