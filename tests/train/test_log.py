"""The training log: written atomically as TSV, read back with numbers parsed."""
import csv

import pytest

from convatlas.train.log import LOG_COLUMNS, read_train_log, write_train_log


def rows():
    return [{"epoch": 1, "train_loss": 1.23456789, "train_accuracy": 0.5, "test_loss": 1.5, "test_accuracy": 0.25,
             "seconds": 3.0, "extra": "ignored"},
            {"epoch": 2, "train_loss": 0.5, "train_accuracy": 0.75, "test_loss": 0.8, "test_accuracy": 0.625,
             "seconds": 2.5}]


def test_the_log_reads_back_its_rows_to_six_significant_digits(tmp_path):
    path = tmp_path / "train" / "log-2.tsv"  # the folder is made
    write_train_log(path, rows())
    back = read_train_log(path)
    assert [list(row) for row in back] == [LOG_COLUMNS, LOG_COLUMNS]
    assert back[0]["epoch"] == 1 and isinstance(back[0]["epoch"], int)
    assert back[0]["train_loss"] == pytest.approx(1.23457, abs=1e-9)  # %.6g
    assert back[1] == {key: rows()[1][key] for key in LOG_COLUMNS}


def test_the_log_is_a_tab_separated_table_with_a_header(tmp_path):
    write_train_log(tmp_path / "log.tsv", rows())
    with open(tmp_path / "log.tsv", encoding="utf-8") as handle:
        table = list(csv.reader(handle, delimiter="\t"))
    assert table[0] == LOG_COLUMNS and len(table) == 3
    assert table[2] == ["2", "0.5", "0.75", "0.8", "0.625", "2.5"]
    assert list(tmp_path.iterdir()) == [tmp_path / "log.tsv"]  # no temporary file left


def test_an_empty_log_has_only_the_header(tmp_path):
    write_train_log(tmp_path / "log.tsv", [])
    assert (tmp_path / "log.tsv").read_text() == "\t".join(LOG_COLUMNS) + "\n"
    assert read_train_log(tmp_path / "log.tsv") == []
