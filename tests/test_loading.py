"""Every bad input gets one clear line naming the file, column and rows, a non-zero exit, and no output."""

from pathlib import Path

import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec, spec_from_mapping
from catalog_ml.errors import CatalogError


def run_cli(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    return code, errors, captured.out


def rewrite_train(demo_dir: Path, edit) -> None:
    path = demo_dir / "train.csv"
    frame = pd.read_csv(path, dtype={"sample_id": str})
    frame = edit(frame)
    frame.to_csv(path, index=False)


def problems_of(spec_path: Path) -> list[str]:
    with pytest.raises(CatalogError) as info:
        load_dataset(load_spec(spec_path))
    return list(info.value.problems)


def test_builtin_spec_loads_and_resolves_under_dataset_folder():
    spec = load_spec("amazon2025")
    assert (spec.id_column, spec.target, spec.text_format) == ("sample_id", "price", "catalog_content")
    assert spec.train_path == (Path.cwd() / "dataset" / "train.csv").resolve()
    assert spec.image_path.name == "images"


def test_spec_problems_are_one_line_each():
    with pytest.raises(CatalogError) as info:
        spec_from_mapping({"name": "x", "id_column": "id", "target": "y", "task": "ranking", "colour": "red",
                           "text_columns": ["t"]})
    assert any("unknown key 'colour'" in p for p in info.value.problems)
    with pytest.raises(CatalogError, match="task 'ranking'"):
        spec_from_mapping({"name": "x", "id_column": "id", "target": "y", "task": "ranking", "text_columns": ["t"]})
    with pytest.raises(CatalogError, match="metric 'accuracy' does not fit"):
        spec_from_mapping({"name": "x", "id_column": "id", "target": "y", "metric": "accuracy",
                           "text_columns": ["t"]})
    with pytest.raises(CatalogError, match="required key 'target'"):
        spec_from_mapping({"name": "x", "id_column": "id", "text_columns": ["t"]})


def test_unknown_dataset_name(capsys):
    code, errors, _ = run_cli(capsys, "check", "--dataset", "no_such_set")
    assert code == 2 and len(errors) == 1 and "built-in" in errors[0]


@pytest.mark.parametrize("edit, expected", [
    (lambda f: f.drop(columns=["price"]), "missing column(s) 'price'"),
    (lambda f: f.assign(sample_id=[f.sample_id[0]] + list(f.sample_id[1:3]) + [f.sample_id[0]]
                        + list(f.sample_id[4:])), "duplicate ids"),
    (lambda f: f.assign(price=["abc"] + list(f.price[1:])), "non-numeric values at data row 1 (values 'abc')"),
    (lambda f: f.assign(price=[None, None] + list(f.price[2:])), "missing (NaN) targets at data rows 1, 2"),
    (lambda f: f.assign(price=[-1.0, 0.0] + list(f.price[2:])), "non-positive targets at data rows 1, 2"),
    (lambda f: f.assign(sample_id=["../../etc"] + list(f.sample_id[1:])), "path separator"),
    (lambda f: f.assign(sample_id=["a/b"] + list(f.sample_id[1:])), "path separator"),
])
def test_bad_train_tables(demo_dir, demo_spec_path, capsys, edit, expected):
    rewrite_train(demo_dir, edit)
    problems = problems_of(demo_spec_path)
    assert any(expected in p for p in problems), problems
    assert all(str(demo_dir / "train.csv") in p for p in problems)
    code, errors, _ = run_cli(capsys, "check", "--dataset", str(demo_spec_path))
    assert code == 2 and errors and len(errors) == len(problems)


def test_ids_shared_by_train_and_test(demo_dir, demo_spec_path):
    test = pd.read_csv(demo_dir / "test.csv", dtype={"sample_id": str})
    train = pd.read_csv(demo_dir / "train.csv", dtype={"sample_id": str})
    test.loc[0, "sample_id"] = train.loc[5, "sample_id"]
    test.to_csv(demo_dir / "test.csv", index=False)
    problems = problems_of(demo_spec_path)
    assert len(problems) == 1 and "test.csv" in problems[0] and "also in train.csv" in problems[0]


@pytest.mark.parametrize("content, expected", [
    (b"", "file is empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 10, "binary content"),
    (b"sample_id;catalog_content;image_link;price\n1;Item Name: a;http://x/a.jpg;3.0\n", "semicolon-delimited"),
    (b"sample_id,catalog_content,image_link,price\n", "no data rows"),
])
def test_unreadable_files(demo_dir, demo_spec_path, capsys, content, expected):
    (demo_dir / "train.csv").write_bytes(content)
    code, errors, _ = run_cli(capsys, "check", "--dataset", str(demo_spec_path))
    assert code == 2
    assert len(errors) == 1 and expected in errors[0] and "train.csv" in errors[0], errors


def test_missing_file(demo_dir, demo_spec_path, capsys):
    (demo_dir / "train.csv").unlink()
    code, errors, _ = run_cli(capsys, "check", "--dataset", str(demo_spec_path))
    assert code == 2 and errors == [f"error: {demo_dir / 'train.csv'}: file not found"]


def test_valid_dataset_checks_clean(demo_spec_path, capsys):
    code, errors, out = run_cli(capsys, "check", "--dataset", str(demo_spec_path))
    assert code == 0 and not errors and "OK: 400 train rows, 120 test rows" in out


def test_drop_target_below_drops_and_counts(demo_dir, demo_spec_path):
    rewrite_train(demo_dir, lambda f: f.assign(price=[0.0, 0.5] + list(f.price[2:])))
    spec_text = demo_spec_path.read_text() + "drop_target_below: 1.0\n"
    demo_spec_path.write_text(spec_text)
    dataset = load_dataset(load_spec(demo_spec_path))
    assert dataset.dropped_low_target >= 2
    assert (dataset.target >= 1.0).all()


def test_row_number_ids_and_dropping_missing_targets(tmp_path):
    pd.DataFrame({"title": ["a", "b", "c", "d"], "price": [1.0, None, 3.0, 4.0]}).to_csv(tmp_path / "t.csv",
                                                                                         index=False)
    spec_text = ("name: rows\nid_column: '@row'\ntarget: price\ntext_columns: [title]\ntrain_file: t.csv\n"
                 "test_file: null\n")
    (tmp_path / "spec.yaml").write_text(spec_text)
    with pytest.raises(CatalogError, match="missing \\(NaN\\) targets at data row 2"):
        load_dataset(load_spec(tmp_path / "spec.yaml"))
    (tmp_path / "spec.yaml").write_text(spec_text + "drop_missing_target: true\n")
    dataset = load_dataset(load_spec(tmp_path / "spec.yaml"))
    assert list(dataset.train["@row"]) == ["1", "3", "4"] and dataset.dropped_low_target == 1
