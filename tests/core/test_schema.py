"""The config schema's defaults, against the YAML file read on its own."""
import yaml

from convatlas.core.schema import SCHEMA_PATH, defaults, load_schema, with_defaults


def raw_schema():
    with open(SCHEMA_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_the_schema_is_the_yaml_file_read_once():
    assert load_schema() == raw_schema()
    assert load_schema() is load_schema()


def test_synthetic_defaults_as_written_in_the_file():
    synthetic = raw_schema()["$defs"]["dataset"]["properties"]["synthetic"]["properties"]
    assert defaults("$defs", "dataset", "synthetic") == {k: v["default"] for k, v in synthetic.items()}
    assert defaults("$defs", "dataset", "synthetic")["size"] == synthetic["size"]["default"]


def test_top_level_defaults_leave_out_properties_without_one():
    top = raw_schema()["properties"]
    found = defaults()
    assert found == {k: v["default"] for k, v in top.items() if "default" in v}
    assert "models" not in found and "datasets" not in found  # no defaults there


def test_defaults_are_a_new_dict_each_time():
    first = defaults("$defs", "dataset", "synthetic")
    first["size"] = -1
    assert defaults("$defs", "dataset", "synthetic")["size"] != -1


def test_with_defaults_keeps_what_the_block_sets():
    expected = {**defaults("$defs", "dataset", "synthetic"), "size": 12}
    assert with_defaults({"size": 12}, "$defs", "dataset", "synthetic") == expected
    assert with_defaults(None, "$defs", "dataset", "synthetic") == defaults("$defs", "dataset", "synthetic")
