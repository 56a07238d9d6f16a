"""Downloader benchmark against the loopback fault server, and the image validator on real downloads.

1. N images (default 2,000) of which 30% get a transient fault (429, 429 with Retry-After, 500, 503, connection
   reset, truncated body, stalled response) on their first one or two requests: every image must arrive; prints the
   throughput; then a second run must fetch nothing.
2. The validator on ../shared/data/amazon2025_sample/images: the files it flags (17 truncated JPEGs expected).
    python benchmarks/bench_download.py [--images 2000] [--workers 16]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from catalog_ml.data.download import DownloadSettings, download_images
from catalog_ml.data.image_checks import check_image_bytes

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the loopback fault server is a test fixture
from fault_server import FaultServer  # noqa: E402

FAULTS = ("429", "429_retry_after", "500", "503", "reset", "truncated", "timeout")
SAMPLE_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "data" / "amazon2025_sample" / "images"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--fault-share", type=float, default=0.3)
    args = parser.parse_args(argv)
    rng = random.Random(0)
    settings = DownloadSettings(workers=args.workers, timeout=1.0, backoff_base=0.1, backoff_max=2.0,
                                allow_private_addresses=True)  # the fault server is on loopback
    with FaultServer(stall_seconds=1.5) as server, tempfile.TemporaryDirectory() as tmp:
        rows = []
        for i in range(args.images):
            fault = rng.choice(FAULTS) if rng.random() < args.fault_share else None
            times = rng.choice((1, 2)) if fault else None
            rows.append({"id": str(i), "url": server.url(f"{i}.jpg", fault, times), "file": f"{i}.jpg"})
        rows = pd.DataFrame(rows)
        started = time.perf_counter()
        first = download_images(rows, Path(tmp) / "images", Path(tmp) / "manifest.csv", settings, progress=False)
        seconds = time.perf_counter() - started
        faulty = rows["url"].str.contains("fault=").sum()
        print(f"run 1: {first.summary()}")
        print(f"  {faulty} images with injected faults; {first.counts.get('downloaded', 0)}/{args.images} fetched; "
              f"{args.images / seconds:.1f} images/s; {int(first.manifest['attempts'].sum())} requests")
        requests_before = sum(server.requests.values())
        second = download_images(rows, Path(tmp) / "images", Path(tmp) / "manifest.csv", settings, progress=False)
        print(f"run 2: {second.summary()}; new requests: {sum(server.requests.values()) - requests_before}")
    if SAMPLE_IMAGES.is_dir():
        files = sorted(SAMPLE_IMAGES.iterdir())
        flagged = [(p.name, check_image_bytes(p.read_bytes()).error) for p in files]
        flagged = [(name, error) for name, error in flagged if error]
        print(f"\nvalidator on {SAMPLE_IMAGES}: {len(flagged)} of {len(files)} files flagged")
        reasons = pd.Series([error.split("(")[-1].rstrip(")") for _, error in flagged]).value_counts()
        print(reasons.to_string())
    else:
        print(f"\nskipped the validator check: {SAMPLE_IMAGES} is absent")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
