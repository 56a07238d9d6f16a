"""Run and blend folders: names that cannot escape the runs folder, one writer at a time, stale locks taken over."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from catalog_ml.cli.main import main
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError
from catalog_ml.folders import check_name, clear_folder_inside

HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from catalog_ml.folders import exclusive_writer
    with exclusive_writer(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def hold_lock(folder, seconds: float) -> subprocess.Popen:
    """A second process holding ``folder``'s writer lock for ``seconds``."""
    process = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(folder), str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "held"
    return process


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "a\\b", "", "x" * 200, "tab\tname"])
def test_unsafe_names_are_refused(name):
    with pytest.raises(CatalogError, match="letters, digits"):
        check_name(name, "run name")


def test_a_spec_name_that_is_a_path_is_refused(demo_spec_path):
    demo_spec_path.write_text(demo_spec_path.read_text().replace("name: demo", "name: ../../escaped"))
    with pytest.raises(CatalogError, match="key name '../../escaped'"):
        load_spec(demo_spec_path)


def test_a_tag_cannot_write_outside_the_runs_folder(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "deep" / "runs"
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs),
                 "--tag", "../../../escaped", "--overwrite"]) == 2
    assert "run name 'median_baseline-../../../escaped'" in capsys.readouterr().err
    assert not any(tmp_path.rglob("*escaped*"))


def test_overwrite_never_removes_a_folder_outside_the_runs_folder(demo_spec_path, tmp_path, capsys):
    runs, outside = tmp_path / "runs", tmp_path / "precious"
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 0
    (runs / "demo" / "median_baseline").rename(outside)
    (runs / "demo" / "median_baseline").symlink_to(outside)  # the run folder now points elsewhere
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs),
                 "--seed", "3", "--overwrite"]) == 2
    assert "refusing to remove a folder outside" in capsys.readouterr().err and (outside / "config.json").exists()
    with pytest.raises(CatalogError):
        clear_folder_inside(runs, runs)  # the root itself is not inside itself


def test_a_second_writer_is_refused_naming_the_holder(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "runs"
    holder = hold_lock(runs / "demo" / "median_baseline", 60)
    try:
        started = time.monotonic()
        assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 2
        assert time.monotonic() - started < 10  # refused at once, not after a timeout
        assert f"process {holder.pid} on " in capsys.readouterr().err
        assert not (runs / "demo" / "median_baseline" / "config.json").exists()
    finally:
        holder.kill()
        holder.wait()


def test_wait_queues_behind_the_holder(demo_spec_path, tmp_path):
    runs = tmp_path / "runs"
    holder = hold_lock(runs / "demo" / "median_baseline", 2)
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs),
                 "--wait"]) == 0
    assert holder.wait(timeout=30) == 0 and (runs / "demo" / "median_baseline" / "oof.parquet").is_file()


def test_a_killed_holder_leaves_no_stale_lock(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "runs"
    holder = hold_lock(runs / "demo" / "median_baseline", 60)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 0
    assert f"took over the lock of process {holder.pid}" in capsys.readouterr().err


def test_a_second_blend_into_the_same_folder_is_refused(demo_spec_path, tmp_path, capsys):
    runs = tmp_path / "runs"
    for name in ("median_baseline", "tfidf_ridge"):
        assert main(["run", name, "--dataset", str(demo_spec_path), "--runs-dir", str(runs)]) == 0
    out_dir = tmp_path / "blend_here"
    holder = hold_lock(out_dir, 60)
    try:
        assert main(["blend", "--dataset", str(demo_spec_path), "--runs-dir", str(runs), "--method", "mean",
                     "--out-dir", str(out_dir), "--submission", str(tmp_path / "s.csv")]) == 2
        assert "is writing here" in capsys.readouterr().err
        assert not (out_dir / "report.md").exists() and not (tmp_path / "s.csv").exists()
    finally:
        holder.kill()
        holder.wait()
