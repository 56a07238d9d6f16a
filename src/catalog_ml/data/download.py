"""An image downloader that survives the real web.

Bounded worker pool; retries with exponential backoff and jitter; ``Retry-After`` honoured on 429/503; per-request
timeouts; a per-file size cap checked against the declared length and while streaming; redirects followed only to
http(s); hosts that resolve to loopback, private, link-local or reserved addresses refused unless allowed (also
after a redirect); every image decoded before it is kept; each file written atomically under a name from the dataset
spec (never from the server); resumable (valid files already on disk are not fetched again); duplicate URLs fetched
once; a manifest (id, url, file, status, bytes, width, height, sha256, error, attempts) and a summary of counts.
"""

from __future__ import annotations

import email.utils
import http.client
import ipaddress
import logging
import random
import socket
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
from tqdm.auto import tqdm

from catalog_ml.atomic import ensure_writable_dir, write_atomic, write_frame_atomic
from catalog_ml.data.image_checks import DEFAULT_MAX_BYTES, DEFAULT_MAX_PIXELS, ImageCheck, check_image_bytes
from catalog_ml.errors import CatalogError

log = logging.getLogger(__name__)

RETRYABLE_STATUS = {408, 425, 429, 500, 502, 503, 504}
ALLOWED_CONTENT_TYPES = ("image/", "application/octet-stream", "binary/octet-stream")
MANIFEST_COLUMNS = ["id", "url", "file", "status", "bytes", "width", "height", "sha256", "error", "attempts"]


@dataclass(frozen=True)
class DownloadSettings:
    """Limits and retry policy of one download run."""

    workers: int = 16
    timeout: float = 20.0
    max_attempts: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    max_retry_after: float = 120.0
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    user_agent: str = "catalog-ml-image-downloader/1.0"
    allow_private_addresses: bool = False  # loopback, private, link-local and reserved hosts (a local mirror)


@dataclass
class FetchResult:
    """The outcome of one file: ``downloaded``, ``exists`` (valid file kept), ``failed`` or ``invalid_url``."""

    status: str
    bytes: int = 0
    check: ImageCheck | None = None
    error: str | None = None
    attempts: int = 0


class _PermanentError(Exception):
    """A failure that retrying cannot fix (404, wrong content type, size cap, bad redirect, not an image)."""


class _TransientError(Exception):
    """A failure worth retrying, with an optional server-requested delay."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, allow_private: bool) -> None:
        super().__init__()
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, D102
        scheme = urlparse(newurl).scheme.lower()
        if scheme not in ("http", "https"):
            raise _PermanentError(f"redirect to a non-http(s) URL refused ({scheme}:)")
        if not self.allow_private:
            refuse_private_host(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def refuse_private_host(url: str) -> None:
    """Raise when ``url``'s host resolves to a loopback, private, link-local, reserved or multicast address (the
    downloader must not become a way into the user's own network)."""
    parsed = urlparse(url)
    try:
        infos = socket.getaddrinfo(parsed.hostname or "", parsed.port or 80, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise _TransientError(f"host not resolved ({error})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global or address.is_multicast:
            raise _PermanentError(f"host {parsed.hostname} resolves to the non-public address {address}: refused "
                                  "(--allow-private-addresses downloads from such hosts)")


def valid_http_url(url: object) -> str | None:
    """The URL if it is a well-formed http(s) URL with a host, else None."""
    if not isinstance(url, str) or not url.strip():
        return None
    parsed = urlparse(url.strip())
    if parsed.scheme.lower() not in ("http", "https") or not parsed.netloc or " " in url.strip():
        return None
    return url.strip()


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


class Downloader:
    """Fetch, validate and store images; thread-safe; one instance per run."""

    def __init__(self, settings: DownloadSettings, rng_seed: int = 0) -> None:
        self.settings = settings
        self._opener = urllib.request.build_opener(_HttpOnlyRedirects(settings.allow_private_addresses))
        self._rng = random.Random(rng_seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask workers to give up between attempts (used on Ctrl-C)."""
        self._stop.set()

    def fetch_to(self, url: str, target: Path) -> FetchResult:
        """Download ``url`` into ``target`` (atomic), unless a valid image is already there."""
        if target.is_file() and target.stat().st_size <= self.settings.max_bytes:  # size first: never read a huge file
            existing = check_image_bytes(target.read_bytes(), self.settings.max_pixels, self.settings.max_bytes)
            if existing.ok:
                return FetchResult("exists", bytes=target.stat().st_size, check=existing)
        attempts = 0
        last_error = "not attempted"
        while attempts < self.settings.max_attempts and not self._stop.is_set():
            attempts += 1
            try:
                data = self._get(url)
                check = check_image_bytes(data, self.settings.max_pixels, self.settings.max_bytes)
                if not check.ok:
                    raise _PermanentError(check.error)
                write_atomic(target, lambda tmp, payload=data: tmp.write_bytes(payload))
                return FetchResult("downloaded", bytes=len(data), check=check, attempts=attempts)
            except _PermanentError as error:
                return FetchResult("failed", error=str(error), attempts=attempts)
            except _TransientError as error:
                last_error = str(error)
                if attempts < self.settings.max_attempts:
                    self._sleep(self._delay(attempts, error.retry_after))
        return FetchResult("failed", error=f"gave up after {attempts} attempts: {last_error}", attempts=attempts)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.max_retry_after)
        with self._lock:
            jitter = self._rng.uniform(0.5, 1.5)
        return min(self.settings.backoff_max, self.settings.backoff_base * 2 ** (attempt - 1)) * jitter

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)

    def _get(self, url: str) -> bytes:
        request = urllib.request.Request(url, headers={"User-Agent": self.settings.user_agent})
        if not self.settings.allow_private_addresses:
            refuse_private_host(url)
        try:
            with self._opener.open(request, timeout=self.settings.timeout) as response:
                return self._read_body(response)
        except urllib.error.HTTPError as error:
            if error.code in RETRYABLE_STATUS:
                retry_after = parse_retry_after(error.headers.get("Retry-After")) if error.code in (429, 503) else None
                raise _TransientError(f"HTTP {error.code}", retry_after) from None
            raise _PermanentError(f"HTTP {error.code}") from None
        except _PermanentError:
            raise
        except urllib.error.URLError as error:
            if isinstance(error.reason, _PermanentError):
                raise error.reason from None
            raise _TransientError(f"connection failed ({error.reason})") from None
        except TimeoutError:
            raise _TransientError(f"timed out after {self.settings.timeout:g}s") from None
        except (ConnectionError, http.client.HTTPException, OSError) as error:
            raise _TransientError(f"connection error ({type(error).__name__}: {error})") from None

    def _read_body(self, response: http.client.HTTPResponse) -> bytes:
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type and not content_type.startswith(ALLOWED_CONTENT_TYPES):
            raise _PermanentError(f"unexpected content type {content_type}")
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > self.settings.max_bytes:
            raise _PermanentError(f"declared size {int(declared)} exceeds the {self.settings.max_bytes}-byte cap")
        chunks, total = [], 0
        while True:
            chunk = response.read(65536)
            if not chunk:
                break
            total += len(chunk)
            if total > self.settings.max_bytes:
                raise _PermanentError(f"body exceeds the {self.settings.max_bytes}-byte cap")
            chunks.append(chunk)
        data = b"".join(chunks)
        if declared and declared.isdigit() and len(data) < int(declared):
            raise _TransientError(f"truncated body ({len(data)} of {declared} bytes)")
        return data


@dataclass
class DownloadReport:
    """The manifest rows and the counts by status."""

    manifest: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        fetched = self.counts.get("downloaded", 0)
        rate = fetched / self.seconds if self.seconds > 0 else 0.0
        return f"{len(self.manifest)} rows: {counts}; {fetched} files fetched in {self.seconds:.1f}s ({rate:.1f}/s)"


def download_images(rows: pd.DataFrame, image_dir: Path, manifest_path: Path, settings: DownloadSettings,
                    progress: bool = True) -> DownloadReport:
    """Download the image of every row (columns id, url, file) into ``image_dir``; write the manifest.

    ``file`` is the name from the dataset spec's rule (None when the row has no usable link). Rows sharing a file
    name are fetched once. On Ctrl-C, in-flight files are abandoned (no partial file), the manifest of what finished
    is written, and KeyboardInterrupt propagates.
    """
    image_dir = ensure_writable_dir(Path(image_dir)).resolve()
    started = time.perf_counter()
    results: dict[str, tuple[str, FetchResult]] = {}
    jobs: dict[str, str] = {}
    for row in rows.itertuples(index=False):
        name, url = _file_name(row.file), valid_http_url(row.url)
        if name is None or url is None or not _inside(image_dir, name):
            continue
        jobs.setdefault(name, url)
    downloader = Downloader(settings)
    pending_names = list(jobs)
    bar = tqdm(total=len(pending_names), desc="images", unit="img", disable=not progress)
    futures: dict = {}
    try:
        with ThreadPoolExecutor(max_workers=settings.workers) as pool:
            futures = {pool.submit(downloader.fetch_to, jobs[n], image_dir / n): n for n in pending_names}
            try:
                remaining = set(futures)
                while remaining:
                    done, remaining = wait(remaining, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in done:
                        name = futures[future]
                        results[name] = (jobs[name], _result_or_disk_error(future))
                        bar.update(1)
            except KeyboardInterrupt:
                downloader.stop()
                for future in futures:
                    future.cancel()
                raise
    finally:
        bar.close()
        for future, name in futures.items():  # files finished while an interrupt was waiting for the workers
            if name not in results and future.done() and not future.cancelled():
                results[name] = (jobs[name], _result_or_disk_error(future))
        report = _manifest(rows, results, image_dir, time.perf_counter() - started)
        write_frame_atomic(Path(manifest_path), report.manifest)
    disk_errors = report.manifest["error"].fillna("").str.startswith("cannot write")
    if disk_errors.any():
        raise CatalogError(f"{image_dir}: {report.manifest.loc[disk_errors, 'error'].iloc[0]} "
                           f"({int(disk_errors.sum())} files); manifest written to {manifest_path}")
    return report


def _result_or_disk_error(future) -> FetchResult:  # noqa: ANN001
    try:
        return future.result()
    except OSError as error:
        return FetchResult("failed", error=f"cannot write image: {error.strerror or error}")


def _file_name(value: object) -> str | None:
    """A row's file name, or None (pandas turns a missing name into NaN, which is no name)."""
    return value if isinstance(value, str) and value else None


def _inside(folder: Path, name: str) -> bool:
    if not name or "/" in name or "\\" in name or name in (".", "..") or "\x00" in name:
        return False
    return (folder / name).resolve().parent == folder


def _manifest(rows: pd.DataFrame, results: dict[str, tuple[str, FetchResult]], image_dir: Path,
              seconds: float) -> DownloadReport:
    records = []
    for row in rows.itertuples(index=False):
        name = _file_name(row.file)
        record = {"id": row.id, "url": row.url, "file": name, "bytes": 0, "width": None, "height": None,
                  "sha256": None, "error": None, "attempts": 0}
        if valid_http_url(row.url) is None:
            record.update(status="invalid_url", error="empty link" if not isinstance(row.url, str) or
                          not row.url.strip() else "not a well-formed http(s) URL")
        elif name is None or name not in results:
            status = "invalid_url" if name is None else "not_attempted"
            error = "no usable file name in the link" if name is None else (
                "file name would leave the image folder" if not _inside(image_dir, name) else
                "run interrupted before this file")
            record.update(status=status, error=error)
        else:
            result = results[name][1]
            check = result.check
            record.update(status=result.status, bytes=result.bytes, error=result.error, attempts=result.attempts,
                          width=check.width if check else None, height=check.height if check else None,
                          sha256=check.sha256 if check else None)
        records.append(record)
    manifest = pd.DataFrame(records, columns=MANIFEST_COLUMNS)
    return DownloadReport(manifest=manifest, counts=manifest["status"].value_counts().to_dict(), seconds=seconds)

