"""Reading one very large, highly compressible product photo: a 6300x6300 RGBA PNG (~150 KB on disk, under the
40M-pixel cap) read, padded square and resized for a 224-pixel backbone, in a fresh process each time: wall seconds
and peak resident memory.

    python benchmarks/bench_image_read.py [--side 6300] [--size 224] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

CHILD = """
import json, resource, sys, time
from catalog_ml.data.image_io import read_image, square_pad
size = int(sys.argv[2])
started = time.perf_counter()
image = read_image(sys.argv[1], size)
square_pad(image).resize((size, size))  # what every reader does next
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "size": list(image.size)}))
"""
BASELINE = """
import json, resource, sys
import catalog_ml.data.image_io
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_photo(path: Path, side: int) -> None:
    """A white-background RGBA product shot: flat colour compresses to a few hundred KB at any size."""
    image = Image.new("RGBA", (side, side), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((side // 4, side // 4, 3 * side // 4, 3 * side // 4), fill=(200, 30, 30, 255))
    image.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--side", type=int, default=6300, help="width and height of the PNG")
    parser.add_argument("--size", type=int, default=224, help="the backbone's input size")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "large.png"
        write_photo(path, args.side)
        base = json.loads(subprocess.run([sys.executable, "-c", BASELINE], capture_output=True, text=True,
                                         check=True).stdout)
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, str(path), str(args.size)],
                                          capture_output=True, text=True, check=True).stdout)
                for _ in range(args.repeats)]
        print(f"{args.side}x{args.side} RGBA PNG, {path.stat().st_size / 1024:.0f} KB, read for size {args.size}: "
              f"returned {runs[0]['size'][0]}x{runs[0]['size'][1]}")
        seconds = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        print(f"seconds: {seconds}; peak memory "
              f"{max(r['peak_mb'] for r in runs):.0f} MB (the process after its imports: {base['peak_mb']:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
