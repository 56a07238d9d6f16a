"""What the cache folder holds, and pruning of its per-fold fitted arrays.

Lists each part of the cache folder (sentence vectors, spaCy entities, image embeddings, and the per-fold fitted
arrays of each approach) with its files, size and last use. The fitted arrays grow with every fold, setting and
code version; --unused-days and --max-gb remove them, least recently used first. A removed file is rebuilt by the
next run that needs it, so pruning costs time, never correctness.

examples:
  catalog-ml cache
  catalog-ml cache --unused-days 14 --dry-run
  catalog-ml cache --max-gb 2"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from catalog_ml.features.cache_admin import cache_parts, prune_fitted

GIB = 1024 ** 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cache-dir", type=Path, default=Path("cache"), help="the cache folder (default: cache)")
    parser.add_argument("--unused-days", type=float, default=None,
                        help="remove fitted arrays not used for more than this many days")
    parser.add_argument("--max-gb", type=float, default=None,
                        help="then remove the least recently used fitted arrays until the rest fit in this size")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")


def handle(args: argparse.Namespace) -> int:
    if args.unused_days is not None or args.max_gb is not None:
        max_bytes = int(args.max_gb * GIB) if args.max_gb is not None else None
        result = prune_fitted(args.cache_dir, args.unused_days, max_bytes, dry_run=args.dry_run)
        verb = "would remove" if args.dry_run else "removed"
        print(f"fitted arrays: {verb} {result.removed_files} files ({_size(result.removed_bytes)}); "
              f"{result.kept_files} files ({_size(result.kept_bytes)}) stay")
    parts = cache_parts(args.cache_dir)
    total = sum(part.bytes for part in parts)
    print(f"{args.cache_dir}: {_size(total)} in {sum(part.files for part in parts)} files")
    if parts:
        width = max(len(part.name) for part in parts)
        print(f"  {'part':{width}s}  {'files':>6s}  {'size':>9s}  last used")
        for part in parts:
            used = datetime.fromtimestamp(part.last_used).strftime("%Y-%m-%d %H:%M") if part.files else "-"
            print(f"  {part.name:{width}s}  {part.files:6d}  {_size(part.bytes):>9s}  {used}")
    return 0


def _size(size: int) -> str:
    for unit, scale in (("GB", GIB), ("MB", 1024 ** 2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"
