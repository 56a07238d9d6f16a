"""Reading delimited text tables as they arrive from the real world: encodings, delimiters and stray control bytes.

UTF-8 (with or without a byte-order mark) is read as is; other text is decoded with the encoding the spec names or,
when it names none, the one ``charset-normalizer`` detects (reported in one line). A file that is not text at all
(a Parquet or zip file under a .csv name) is refused. A wrong delimiter is named in the error, and parser errors
name data rows (1-based, header excluded), not physical lines.
"""

from __future__ import annotations

import bz2
import gzip
import logging
import lzma
import re
from pathlib import Path

import pandas as pd

from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_COMPRESSED = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_BINARY_MAGIC = (b"PAR1", b"PK\x03\x04", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0")
_SNIFF_BYTES = 65536
_DETECT_BYTES = 4 * 2**20
_PHYSICAL_LINE = re.compile(r"\bline (\d+)\b")


def default_separator(path: Path) -> str:
    """Tab for ``.tsv``/``.tab`` files (also compressed), comma otherwise."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    return "\t" if any(s in (".tsv", ".tab") for s in suffixes) else ","


def read_delimited(path: Path, separator: str | None, encoding: str | None, dtype: dict) -> pd.DataFrame:
    """A CSV/TSV file (optionally gz, bz2 or xz compressed) as a frame; every problem is one clear line."""
    path = Path(path)
    head = _head(path)
    _refuse_binary(path, head)
    separator = separator or default_separator(path)
    try:
        frame = _parse(path, separator, encoding or "utf-8-sig", dtype, head)
    except UnicodeDecodeError:
        if encoding:
            raise CatalogError(_decode_problem(path, encoding)) from None
        detected = _detect_encoding(path)
        try:
            frame = _parse(path, separator, detected, dtype, head)
        except UnicodeDecodeError:
            raise CatalogError(_decode_problem(path, "utf-8")) from None
        log.warning("%s: not UTF-8; read as %s (detected; set 'encoding:' in the spec to choose)", path, detected)
    _refuse_wrong_delimiter(path, frame, separator)
    return frame


def _opener(path: Path):  # noqa: ANN202 (a binary-file factory)
    return _COMPRESSED.get(path.suffix.lower(), open)


def _head(path: Path) -> bytes:
    try:
        with _opener(path)(path, "rb") as handle:
            return handle.read(_SNIFF_BYTES)
    except (OSError, EOFError, lzma.LZMAError) as error:
        raise CatalogError(f"{path}: cannot be read ({error})") from None


def _refuse_binary(path: Path, head: bytes) -> None:
    # A stray NUL inside a text field is cleaned later; a file made mostly of them is not text.
    if head.startswith(_BINARY_MAGIC) or head.count(b"\x00") > max(16, len(head) // 20):
        raise CatalogError(f"{path}: binary content, not a text table (expected {path.suffix or 'CSV'} text)")


def _parse(path: Path, separator: str, encoding: str, dtype: dict, head: bytes) -> pd.DataFrame:
    try:
        return pd.read_csv(path, sep=separator, dtype=dtype, low_memory=False, encoding=encoding)
    except pd.errors.ParserError as error:
        detail = _PHYSICAL_LINE.sub(lambda m: f"data row {int(m.group(1)) - 1}", str(error).strip().splitlines()[0])
        raise CatalogError(f"{path}: cannot be read as a table ({detail}){_delimiter_hint(head, separator)}") from None


def _delimiter_hint(head: bytes, separator: str) -> str:
    """``; looks semicolon-delimited: set separator: ';'`` when the header line splits better on another one."""
    header = head.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    counts = {d: header.count(d) for d in DELIMITER_NAMES}
    best = max(counts, key=counts.get)
    if best != separator and counts[best] > counts.get(separator, 0):
        return f"; it looks {DELIMITER_NAMES[best]}-delimited: set separator: {best!r} in the spec"
    return ""


def _refuse_wrong_delimiter(path: Path, frame: pd.DataFrame, separator: str) -> None:
    if frame.shape[1] == 1:
        hint = _delimiter_hint(str(frame.columns[0]).encode(), separator)
        if hint:
            raise CatalogError(f"{path}: the header has a single column{hint}")


def _detect_encoding(path: Path) -> str:
    from charset_normalizer import from_bytes

    with _opener(path)(path, "rb") as handle:
        sample = handle.read(_DETECT_BYTES)
    best = from_bytes(sample).best()
    if best is None:
        raise CatalogError(f"{path}: not UTF-8 and no text encoding could be detected (binary content?); set "
                           "'encoding:' in the spec")
    return best.encoding


def _decode_problem(path: Path, encoding: str) -> str:
    """Where the file stops being ``encoding`` text: the data row and byte, counted over the whole file."""
    with _opener(path)(path, "rb") as handle:
        raw = handle.read()
    try:
        raw.decode(encoding)
    except UnicodeDecodeError as error:
        row = raw[:error.start].count(b"\n")
        where = f"data row {row}" if row else "the header"
        return (f"{path}: not {encoding} text ({error.reason} at byte {error.start}, in {where}); set 'encoding:' "
                "in the spec")
    except LookupError:
        return f"{path}: unknown encoding '{encoding}' in the spec"
    return f"{path}: not {encoding} text"
