"""The downloader against a real HTTP server on loopback, with injected faults."""

import os

import pandas as pd
import pytest
from fault_server import FaultServer

from catalog_ml.cli.main import main
from catalog_ml.data.download import DownloadSettings, download_images, parse_retry_after, valid_http_url
from catalog_ml.data.image_checks import check_image_bytes
from catalog_ml.errors import CatalogError

FAST = DownloadSettings(workers=8, timeout=1.0, max_attempts=4, backoff_base=0.05, backoff_max=0.2,
                        max_bytes=2_000_000, allow_private_addresses=True)  # the fault server is on loopback

RETRIEVABLE = ["429", "429_retry_after", "500", "503", "timeout", "reset", "truncated", "redirect"]
PERMANENT = {"html": "unexpected content type text/html", "garbage": "not a valid image",
             "redirect_ftp": "non-http(s)", "huge": "exceeds the", "notfound": "HTTP 404"}


@pytest.fixture()
def server():
    with FaultServer(stall_seconds=2.0) as running:
        yield running


def rows_for(server) -> pd.DataFrame:
    records = [{"id": f"ok{i}", "url": server.url(f"ok{i}.jpg"), "file": f"ok{i}.jpg"} for i in range(5)]
    records += [{"id": f"t_{f}", "url": server.url(f"t_{f}.jpg", f, times=1), "file": f"t_{f}.jpg"}
                for f in RETRIEVABLE]
    records += [{"id": f"p_{f}", "url": server.url(f"p_{f}.jpg", f), "file": f"p_{f}.jpg"} for f in PERMANENT]
    records += [
        {"id": "dup", "url": server.url("ok0.jpg"), "file": "ok0.jpg"},
        {"id": "empty", "url": "", "file": None},
        {"id": "malformed", "url": "htp:/broken link", "file": "broken"},
        {"id": "escape", "url": server.url("x.jpg"), "file": "../x.jpg"},
    ]
    return pd.DataFrame(records)


def test_every_retrievable_image_arrives_and_every_failure_has_a_reason(server, tmp_path):
    images, manifest_path = tmp_path / "images", tmp_path / "manifest.csv"
    report = download_images(rows_for(server), images, manifest_path, FAST, progress=False)
    manifest = pd.read_csv(manifest_path).set_index("id")
    for name in [f"ok{i}" for i in range(5)] + [f"t_{f}" for f in RETRIEVABLE]:
        assert manifest.loc[name, "status"] == "downloaded", (name, manifest.loc[name, "error"])
        assert check_image_bytes((images / f"{name}.jpg").read_bytes()).ok
        assert manifest.loc[name, "width"] == 48 and len(manifest.loc[name, "sha256"]) == 64
    for fault, reason in PERMANENT.items():
        assert manifest.loc[f"p_{fault}", "status"] == "failed"
        assert reason in manifest.loc[f"p_{fault}", "error"], manifest.loc[f"p_{fault}", "error"]
        assert not (images / f"p_{fault}.jpg").exists()
    assert manifest.loc["t_500", "attempts"] == 2
    assert manifest.loc["empty", "status"] == "invalid_url" and manifest.loc["malformed", "status"] == "invalid_url"
    assert manifest.loc["escape", "status"] == "not_attempted" and not (tmp_path / "x.jpg").exists()
    assert server.requests["/img/ok0.jpg?"] == 1  # duplicate URL fetched once
    assert manifest.loc["dup", "status"] == "downloaded"
    assert not [p for p in images.iterdir() if p.name.endswith(".tmp")]
    assert report.counts["downloaded"] == 14

    again = download_images(rows_for(server), images, manifest_path, FAST, progress=False)
    assert again.counts.get("downloaded", 0) == 0 and again.counts["exists"] == 14
    assert server.requests["/img/ok0.jpg?"] == 1


def test_retry_after_is_honoured(server, tmp_path):
    rows = pd.DataFrame([{"id": "a", "url": server.url("a.jpg", "429_retry_after", times=1), "file": "a.jpg"}])
    import time

    started = time.perf_counter()
    download_images(rows, tmp_path / "images", tmp_path / "m.csv", FAST, progress=False)
    assert time.perf_counter() - started >= 0.95  # the server asked for 1 s; backoff alone would be ~0.05 s


def test_invalid_file_on_disk_is_fetched_again(server, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    (images / "a.jpg").write_bytes(b"\xff\xd8 truncated")
    rows = pd.DataFrame([{"id": "a", "url": server.url("a.jpg"), "file": "a.jpg"}])
    report = download_images(rows, images, tmp_path / "m.csv", FAST, progress=False)
    assert report.counts == {"downloaded": 1} and check_image_bytes((images / "a.jpg").read_bytes()).ok


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_image_folder(server, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    images.chmod(0o500)
    rows = pd.DataFrame([{"id": "a", "url": server.url("a.jpg"), "file": "a.jpg"}])
    with pytest.raises(CatalogError, match="not writable"):
        download_images(rows, images, tmp_path / "m.csv", FAST, progress=False)


def test_image_folder_that_is_a_file(server, tmp_path):
    (tmp_path / "images").write_text("not a folder")
    rows = pd.DataFrame([{"id": "a", "url": server.url("a.jpg"), "file": "a.jpg"}])
    with pytest.raises(CatalogError, match="not writable"):
        download_images(rows, tmp_path / "images", tmp_path / "m.csv", FAST, progress=False)


def test_helpers():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None
    assert valid_http_url("https://m.media-amazon.com/images/I/a.jpg")
    for bad in ("", None, "ftp://x/a.jpg", "javascript:alert(1)", "http:///nohost.jpg", "http://a b/c.jpg"):
        assert valid_http_url(bad) is None


def test_command_on_a_dataset(server, demo_dir, demo_spec_path, capsys):
    test = pd.read_csv(demo_dir / "test.csv", dtype={"sample_id": str}).head(5)
    test["image_link"] = [server.url(f"img{i}.jpg") for i in range(5)]
    test.to_csv(demo_dir / "test.csv", index=False)
    spec = demo_spec_path.read_text().replace("image_dir: images", "image_dir: fresh_images")
    demo_spec_path.write_text(spec)
    assert main(["download-images", "--dataset", str(demo_spec_path), "--splits", "test", "--timeout", "2",
                 "--allow-private-addresses"]) == 0
    out = capsys.readouterr().out
    assert "downloaded=5" in out
    assert len(list((demo_dir / "fresh_images").glob("img*.jpg"))) == 5
    assert (demo_dir / "image_manifest.csv").is_file()


def test_ctrl_c_leaves_no_partial_files_and_resumes(tmp_path):
    import signal
    import subprocess
    import sys
    import time

    with FaultServer(stall_seconds=1.0) as slow:
        images = tmp_path / "images"
        # 30 stalled images on 2 workers take 15 s: Ctrl-C always lands mid-download, even on a fast machine
        train = pd.DataFrame({"sample_id": [str(i) for i in range(30)], "catalog_content": "Item Name: x",
                              "image_link": [slow.url(f"s{i}.jpg", "timeout") for i in range(30)],
                              "price": 1.0})
        train.to_csv(tmp_path / "train.csv", index=False)
        (tmp_path / "spec.yaml").write_text(
            "name: s\nid_column: sample_id\ntarget: price\ntext_columns: [catalog_content]\n"
            "image_column: image_link\nimage_dir: images\ntest_file: null\n")
        command = [sys.executable, "-m", "catalog_ml.cli.main", "download-images", "--dataset",
                   str(tmp_path / "spec.yaml"), "--allow-private-addresses", "--workers", "2", "--timeout", "5"]
        # a shell's background job (how CI may start us) ignores SIGINT and children inherit that: restore it
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 120
        while sum(slow.requests.values()) < 2 and time.monotonic() < deadline:  # downloading, not still importing
            time.sleep(0.1)
        time.sleep(1.0)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
        assert process.returncode == 130, err
        assert not [p for p in images.iterdir() if p.name.endswith(".tmp")]
        manifest = pd.read_csv(tmp_path / "image_manifest.csv")
        assert (manifest["status"] == "not_attempted").any()
        finished = set(manifest.loc[manifest["status"] == "downloaded", "file"])
        assert finished == {p.name for p in images.iterdir()}
        assert all(check_image_bytes((images / name).read_bytes()).ok for name in finished)
        rerun = subprocess.run([*command[:-4], "--workers", "10", "--timeout", "5"], capture_output=True, text=True,
                               timeout=120)
        assert rerun.returncode == 0, rerun.stderr
        assert f"exists={len(finished)}" in rerun.stdout
        assert len(list(images.iterdir())) == 30


def test_disk_full_is_a_clear_error_with_a_consistent_manifest(server, tmp_path, monkeypatch):
    import errno

    from catalog_ml.data import download
    def full_disk(path, writer):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(download, "write_atomic", full_disk)
    rows = pd.DataFrame([{"id": "a", "url": server.url("a.jpg"), "file": "a.jpg"}])
    with pytest.raises(CatalogError, match="cannot write image: No space left on device"):
        download_images(rows, tmp_path / "images", tmp_path / "m.csv", FAST, progress=False)
    manifest = pd.read_csv(tmp_path / "m.csv")
    assert manifest["status"].tolist() == ["failed"] and not (tmp_path / "images" / "a.jpg").exists()


def test_links_without_a_usable_file_name_land_in_the_manifest_never_a_traceback(server, tmp_path):
    from catalog_ml.data.images import url_basename

    urls = [server.url("ok0.jpg"), "http://example.com/", "http://example.com/a/..", "http://example.com/a%5Cb.jpg",
            "http://example.com/%2e%2e", None, float("nan"), 42, "javascript:alert(1)"]
    rows = pd.DataFrame({"id": [f"r{i}" for i in range(len(urls))], "url": urls,
                         "file": [url_basename(u) for u in urls]})  # pandas stores the missing names as NaN
    report = download_images(rows, tmp_path / "images", tmp_path / "m.csv", FAST, progress=False)
    manifest = report.manifest.set_index("id")
    assert manifest.loc["r0", "status"] == "downloaded"
    assert (manifest.drop(index="r0")["status"] == "invalid_url").all()
    assert manifest.loc["r1", "error"] == "no usable file name in the link"
    assert manifest["error"].drop(index="r0").notna().all()


def test_loopback_and_private_hosts_are_refused_unless_allowed(server, tmp_path):
    import dataclasses

    rows = pd.DataFrame([{"id": "a", "url": server.url("a.jpg"), "file": "a.jpg"}])
    strict = dataclasses.replace(FAST, allow_private_addresses=False)
    manifest = download_images(rows, tmp_path / "images", tmp_path / "m.csv", strict, progress=False).manifest
    assert manifest["status"].tolist() == ["failed"] and "non-public address 127.0.0.1" in manifest["error"][0]
    assert manifest["attempts"][0] == 1 and not (tmp_path / "images" / "a.jpg").exists()
    allowed = download_images(rows, tmp_path / "images", tmp_path / "m.csv", FAST, progress=False).manifest
    assert allowed["status"].tolist() == ["downloaded"]


def test_an_oversized_file_on_disk_is_not_read_but_fetched_again(server, tmp_path, monkeypatch):
    from pathlib import Path

    images = tmp_path / "images"
    images.mkdir()
    (images / "big.jpg").write_bytes(b"\0" * (FAST.max_bytes + 1))
    read = []
    original = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or original(self))
    rows = pd.DataFrame([{"id": "a", "url": server.url("big.jpg"), "file": "big.jpg"}])
    manifest = download_images(rows, images, tmp_path / "m.csv", FAST, progress=False).manifest
    assert manifest["status"].tolist() == ["downloaded"] and "big.jpg" not in read


def test_the_pixel_cap_is_checked_from_the_header_before_decoding(monkeypatch):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (100, 100), "white").save(buffer, format="PNG")
    monkeypatch.setattr(Image.Image, "load", lambda self: (_ for _ in ()).throw(AssertionError("decoded")))
    check = check_image_bytes(buffer.getvalue(), max_pixels=5000)
    assert not check.ok and check.error == "100x100 exceeds the 5000-pixel cap"
