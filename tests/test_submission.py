import numpy as np
import pandas as pd
import pytest

from catalog_ml.cli.main import main
from catalog_ml.data.submission import validate_submission_file, write_submission
from catalog_ml.errors import CatalogError

TEST_IDS = np.array(["10", "11", "12", "13"])


def problems_for(tmp_path, text: str) -> list[str]:
    path = tmp_path / "submission.csv"
    path.write_text(text)
    return validate_submission_file(path, TEST_IDS, "sample_id", "price")


def test_valid_submission(tmp_path):
    assert problems_for(tmp_path, "sample_id,price\n10,1.5\n11,2\n12,3.25\n13,100\n") == []


@pytest.mark.parametrize("text, expected", [
    ("id,price\n10,1\n11,1\n12,1\n13,1\n", "header must be 'sample_id,price'"),
    ("sample_id,price\n10,1\n11,1\n12,1\n", "3 rows, but the test file has 4"),
    ("sample_id,price\n10,1\n10,1\n12,1\n13,1\n", "repeats ids at data row 2"),
    ("sample_id,price\n10,1\n11,1\n12,1\n99,1\n", "ids not in the test file at data row 4"),
    ("sample_id,price\n10,1\n11,1\n12,1\n99,1\n", "1 test ids have no prediction (first: '13')"),
    ("sample_id,price\n10,abc\n11,1\n12,1\n13,1\n", "non-numeric values at data row 1"),
    ("sample_id,price\n10,\n11,nan\n12,inf\n13,1\n", "empty, NaN or infinite values at data rows 1, 2, 3"),
    ("sample_id,price\n10,0\n11,-2\n12,1\n13,1\n", "non-positive values at data rows 1, 2"),
    ("", "file is empty"),
])
def test_invalid_submissions(tmp_path, text, expected):
    problems = problems_for(tmp_path, text)
    assert any(expected in p for p in problems), problems


def test_binary_submission(tmp_path):
    path = tmp_path / "submission.csv"
    path.write_bytes(b"\x00\x01\x02")
    assert "binary content" in validate_submission_file(path, TEST_IDS, "sample_id", "price")[0]


def test_writer_orders_rows_like_test_and_refuses_invalid(tmp_path):
    out = tmp_path / "sub.csv"
    write_submission(np.array(["13", "10", "12", "11"]), np.array([4.0, 1.0, 3.0, 2.0]), out, TEST_IDS)
    frame = pd.read_csv(out, dtype={"sample_id": str})
    assert list(frame["sample_id"]) == list(TEST_IDS) and list(frame["price"]) == [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(CatalogError, match="no prediction"):
        write_submission(np.array(["10"]), np.array([1.0]), tmp_path / "bad.csv", TEST_IDS)
    assert not (tmp_path / "bad.csv").exists()


def test_standalone_command(demo_dir, demo_spec_path, capsys, tmp_path):
    test = pd.read_csv(demo_dir / "test.csv", dtype={"sample_id": str})
    path = tmp_path / "s.csv"
    pd.DataFrame({"sample_id": test["sample_id"], "price": 5.0}).to_csv(path, index=False)
    assert main(["validate-submission", str(path), "--test", str(demo_dir / "test.csv")]) == 0
    pd.DataFrame({"sample_id": test["sample_id"][1:], "price": 5.0}).to_csv(path, index=False)
    assert main(["validate-submission", str(path), "--test", str(demo_dir / "test.csv")]) == 2
    err = capsys.readouterr().err
    assert "rows, but the test file has" in err and "have no prediction" in err
