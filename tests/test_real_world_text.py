"""Tables as they arrive: other encodings, stray NUL and control bytes, empty texts, other delimiters."""

import logging

import pytest

from catalog_ml.data.loading import load_dataset
from catalog_ml.data.spec import load_spec
from catalog_ml.errors import CatalogError

ROWS = [("1", "café crème – boîte", "3.5"), ("2", "plain tea 100 g", "2.0"), ("3", "steel bottle", "9.0")]


def table(tmp_path, rows=ROWS, encoding="utf-8", separator=",", name="train.csv", spec_extra="",
          header=("id", "title", "price")) -> object:
    text = "\n".join(separator.join(row) for row in [header, *rows]) + "\n"
    (tmp_path / name).write_bytes(text.encode(encoding))
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"name: t\nid_column: id\ntarget: price\ntext_columns: [title]\ntrain_file: {name}\n"
                    f"test_file: null\n{spec_extra}")
    return spec


def test_a_cp1252_table_is_read_with_the_detected_encoding_and_said_so(tmp_path, caplog):
    rows = [("1", "café crème – boîte de thé à l'orange très fraîche", "3.5"),
            *[(str(i), f"thé numéro {i} – qualité supérieure récolte d'été", "2.0") for i in range(2, 40)]]
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(load_spec(table(tmp_path, rows=rows, encoding="cp1252")))
    assert dataset.train["title"].iloc[0] == "café crème – boîte de thé à l'orange très fraîche"
    assert any("not UTF-8; read as" in r.getMessage() for r in caplog.records)


def test_a_named_encoding_is_used_and_its_errors_name_the_data_row_and_byte(tmp_path):
    rows = [("1", "plain", "1.0"), ("2", "caf\u00e9", "2.0")]
    spec = table(tmp_path, rows=rows, encoding="latin-1", spec_extra="encoding: latin-1\n")
    assert load_dataset(load_spec(spec)).train["title"].iloc[1] == "café"
    spec.write_text(spec.read_text().replace("latin-1", "utf-8"))
    offset = (tmp_path / "train.csv").read_bytes().index("é".encode("latin-1"))
    with pytest.raises(CatalogError, match=rf"not utf-8 text .* at byte {offset}, in data row 2\)"):
        load_dataset(load_spec(spec))


def test_utf8_with_a_byte_order_mark(tmp_path):
    dataset = load_dataset(load_spec(table(tmp_path, encoding="utf-8-sig")))
    assert list(dataset.train.columns) == ["id", "title", "price"]


def test_nul_and_control_bytes_in_text_are_removed_and_counted(tmp_path, caplog):
    rows = [("1", "hello\x00 world\x07", "3.0"), ("2", "ok", "2.0"), ("3", "tab\tstays", "1.0")]
    with caplog.at_level(logging.WARNING):
        dataset = load_dataset(load_spec(table(tmp_path, rows=rows)))
    assert list(dataset.train["title"]) == ["hello world", "ok", "tab\tstays"]
    assert any("control characters or NUL bytes removed at data row 1" in r.getMessage() for r in caplog.records)


def test_a_binary_file_under_a_csv_name_is_still_refused(tmp_path):
    spec = table(tmp_path)
    (tmp_path / "train.csv").write_bytes(b"PAR1" + bytes(range(256)) * 20)
    with pytest.raises(CatalogError, match="binary content"):
        load_dataset(load_spec(spec))


def test_empty_texts_are_missing_values_unless_the_spec_refuses_them(tmp_path, caplog):
    rows = [("1", "", "3.0"), ("2", "ok", "2.0"), ("3", "fine", "1.0")]
    with caplog.at_level(logging.WARNING):
        assert len(load_dataset(load_spec(table(tmp_path, rows=rows))).train) == 3
    assert any("1 rows have no text" in r.getMessage() for r in caplog.records)
    strict = table(tmp_path, rows=rows, spec_extra="allow_empty_text: false\n")
    with pytest.raises(CatalogError, match="empty text at data row 1"):
        load_dataset(load_spec(strict))


def test_a_semicolon_table_gets_the_delimiter_named(tmp_path):
    rows = [("1", "tea, green", "3.0"), ("2", "ok", "2.0")]
    spec = table(tmp_path, rows=rows, separator=";")
    with pytest.raises(CatalogError, match=r"looks semicolon-delimited: set separator: ';' in the spec"):
        load_dataset(load_spec(spec))
    spec.write_text(spec.read_text() + "separator: ';'\n")
    assert list(load_dataset(load_spec(spec)).train["title"]) == ["tea, green", "ok"]


def test_parser_errors_name_data_rows_not_physical_lines(tmp_path):
    spec = table(tmp_path, rows=[("1", "a", "3.0"), ("2", "b", "2.0", "extra")])
    with pytest.raises(CatalogError, match=r"Expected 3 fields in data row 2, saw 4") as error:
        load_dataset(load_spec(spec))
    assert "line 3" not in str(error.value)


def test_a_tsv_file_needs_no_separator_in_the_spec(tmp_path):
    spec = table(tmp_path, separator="\t", name="train.tsv")
    assert list(load_dataset(load_spec(spec)).train["title"])[1] == "plain tea 100 g"


def test_an_unknown_encoding_in_the_spec_is_one_line(tmp_path):
    with pytest.raises(CatalogError, match="encoding 'no-such-codec' is not a known text encoding"):
        load_spec(table(tmp_path, spec_extra="encoding: no-such-codec\n"))
