"""The command line: one dispatch style, every command's help, clear one-line errors for mistakes."""

import subprocess
import sys

import pytest

from catalog_ml import __version__
from catalog_ml.cli.main import COMMANDS, main


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_help_that_exits_0(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert f"catalog-ml {command}" in capsys.readouterr().out


def test_top_level_help_lists_every_command_with_its_purpose(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    for name, (_, purpose) in COMMANDS.items():
        assert name in out and purpose.split()[0] in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and __version__ in capsys.readouterr().out


def test_python_dash_m_catalog_ml_is_the_command():
    result = subprocess.run([sys.executable, "-m", "catalog_ml", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and __version__ in result.stdout


@pytest.mark.parametrize(("argv", "expected"), [
    (["rnu"], "unknown command 'rnu' (did you mean 'run'?)"),
    (["blnd", "--dataset", "x"], "did you mean 'blend'?"),
    (["run"], "name an approach: catalog-ml run NAME (approaches: "),
    (["run", "tfidf_rige", "--dataset", "x"], "unknown approach 'tfidf_rige' (did you mean 'tfidf_ridge'?"),
    (["run", "tfidf_ridge", "--dataset", "x", "--set", "alpah=1"], "unknown setting(s) alpah (known: alpha,"),
    (["run", "tfidf_ridge"], "--dataset is required"),
])
def test_mistakes_are_one_line_and_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert expected in err and len(err.strip().splitlines()) == 1


def test_run_help_lists_the_approach_settings(capsys):
    with pytest.raises(SystemExit):
        main(["run", "tfidf_ridge", "--help"])
    out = capsys.readouterr().out
    assert "settings (use --set KEY=VALUE)" in out and "alpha = " in out


def test_approach_script_is_the_run_command(capsys):
    from catalog_ml.cli.run import approach_main

    assert approach_main("tfidf_ridge", ["--dataset", "x", "--set", "nope=1"]) == 2
    assert "unknown setting(s) nope" in capsys.readouterr().err


def test_missing_optional_library_is_one_line_with_the_install_command(monkeypatch, capsys):
    from catalog_ml.cli.common import guarded

    def needs_xgboost() -> int:
        raise ModuleNotFoundError("No module named 'xgboost'", name="xgboost")

    assert guarded(needs_xgboost) == 2
    assert "pip install 'catalog-ml[xgboost]'" in capsys.readouterr().err
    with pytest.raises(ModuleNotFoundError):  # a module of no optional extra is a bug: it is not hidden
        guarded(lambda: (_ for _ in ()).throw(ModuleNotFoundError("x", name="not_optional")))


def test_a_gpu_asked_for_where_there_is_none_is_one_line(demo_spec_path, tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    runs = tmp_path / "runs"
    assert main(["run", "median_baseline", "--dataset", str(demo_spec_path), "--runs-dir", str(runs),
                 "--device", "cuda"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "sees no CUDA GPU here; use --device cpu" in errors[0]
    assert not runs.exists()  # refused before anything was written
    assert main(["embed", "--dataset", str(demo_spec_path), "--device", "tpu"]) == 2
    assert "--device tpu: use auto, cpu, cuda or cuda:N" in capsys.readouterr().err


def test_auto_device_is_the_cpu_without_a_gpu(monkeypatch):
    import torch

    from catalog_ml.nn.device import torch_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.delenv("CATALOG_ML_DEVICE", raising=False)
    assert torch_device().type == "cpu" and torch_device("cpu").type == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert torch_device() == torch.device("cuda", 1)  # each torchrun process takes its own GPU
