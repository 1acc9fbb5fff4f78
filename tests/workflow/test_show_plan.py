"""python -m convatlas.workflow.show_plan: the plan of a config, layers included, without a run."""
import yaml

from convatlas.workflow.show_plan import main


def test_the_plan_lists_the_layers_before_any_run(tmp_path, capsys):
    config = {"datasets": {"shapes": {"kind": "synthetic", "synthetic": {"size": 16, "classes": 2, "test_count": 8}}},
              "models": {"mine": {"arch": "resnet", "params": {"widths": [4, 8], "blocks": 1}, "dataset": "shapes",
                                  "epochs": 0}}}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    assert main([str(tmp_path / "config.yaml"), "--cores", "2"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("The plan (cpu, 2 cores)")
    assert "    layers: relu, layer1.0.relu1, layer1.0, layer2.0.relu1, layer2.0" in out
    assert not (tmp_path / "results").exists()


def test_a_bad_config_is_named_on_one_line(tmp_path, capsys):
    (tmp_path / "config.yaml").write_text(yaml.safe_dump({"datasets": {"d": {"kind": "synthetic"}}, "modles": {}}))
    assert main([str(tmp_path / "config.yaml")]) == 1
    assert capsys.readouterr().err.startswith("convatlas: config key")
