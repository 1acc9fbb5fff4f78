"""Config validation: every bad input stops with a message naming the key and the value."""

import copy

import pytest

from convatlas.core.errors import ConfigError
from convatlas.workflow.config import checkpoint_epochs, load_config, validate_config


@pytest.fixture
def check_error(tiny_config):
    """Mutates the tiny config, validates it, and checks the error message holds every ``expected`` part."""
    def check(mutate, *expected: str) -> str:
        config = tiny_config()
        mutate(config)
        with pytest.raises(ConfigError) as caught:
            validate_config(config)
        message = str(caught.value)
        for part in expected:
            assert part in message, f"{part!r} not in {message!r}"
        return message

    return check


def test_defaults_are_filled(tiny_config):
    config = validate_config(tiny_config())
    assert config["device"] == "auto"
    tiny = config["models"]["tiny"]
    assert tiny["optimizer"] == {
        "name": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": False, "betas": [0.9, 0.999],
        "eps": 1e-8, "weight_decay": 0.0005,
    }
    assert tiny["augment"] == [] and tiny["seed"] == 0 and tiny["weights"] is None
    assert config["datasets"]["shapes"]["probe_split"] == "test"
    assert config["site"]["title"] == "convatlas"


def test_defaults_do_not_share_mutable_values(tiny_config):
    config = validate_config(tiny_config())
    config["models"]["tiny"]["augment"].append("hflip")
    assert config["models"]["tres"]["augment"] == []


def test_unknown_key_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(learning_rate=0.1), "models.tiny.learning_rate", "unknown key")


def test_unknown_top_level_key_is_named(check_error):
    check_error(lambda c: c.update(modles={}), "config key modles", "unknown key; did you mean models?")


def test_a_misspelt_key_gets_the_right_one_suggested(check_error):
    check_error(lambda c: c["analysis"].update(layer=["x"]), "config key analysis.layer: unknown key; did you mean layers?",
                "(allowed: batch_size")


def test_wrong_type_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(epochs="ten"), "models.tiny.epochs", "'ten'")


def test_unknown_architecture_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(arch="alexnet"), "models.tiny.arch", "'alexnet'", "torchvision:<name>")


def test_unknown_torchvision_model_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(arch="torchvision:nonet"), "models.tiny.arch", "'nonet'")


def test_unknown_dataset_kind_is_named(check_error):
    check_error(lambda c: c["datasets"]["shapes"].update(kind="svhn"), "datasets.shapes.kind", "'svhn'", "synthetic")


def test_missing_dataset_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(dataset="fashon"), "models.tiny.dataset", "'fashon'", "shapes")


def test_checkpoint_beyond_epochs_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(checkpoints=[1, 5]), "models.tiny.checkpoints", "epoch 5", "epochs (2)")


def test_unknown_arch_parameter_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"]["params"].update(depth=3), "models.tiny.params.depth", "widths")


def test_missing_weights_file_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(weights="/nonexistent/w.pt"), "models.tiny.weights", "/nonexistent/w.pt")


def test_missing_required_key_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].pop("dataset"), "models.tiny.dataset", "required")


def test_imagefolder_needs_root(check_error):
    check_error(lambda c: c["datasets"].update(photos={"kind": "imagefolder", "image_size": 32}), "datasets.photos.root")


def test_bad_optimizer_name_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"]["optimizer"].update(name="rmsprop"), "models.tiny.optimizer.name", "'rmsprop'")


def test_checkpoint_epochs_always_include_the_last():
    assert checkpoint_epochs({"checkpoints": [3, 1], "epochs": 5}) == [1, 3, 5]


def test_embedded_default_config_is_valid(repo):
    config = load_config(repo / "config.yaml")
    assert {"zf", "resnet"} <= set(config["models"])
    assert config["datasets"][config["models"]["zf"]["dataset"]]["kind"] == "fashion-mnist"


def test_invalid_yaml_names_the_file(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="config.yaml"):
        load_config(path)


def test_unknown_ranking_is_named(check_error):
    check_error(lambda c: c["analysis"].update(ranking="median"), "analysis.ranking", "'median'", "max | mean | l2")


def test_analysis_defaults(tiny_config):
    analysis = validate_config(tiny_config())["analysis"]
    assert analysis["top_k"] == 9 and analysis["ranking"] == "max" and analysis["layers"] is None


def test_missing_maximise_photo_is_named(tiny_config):
    from convatlas.workflow.plan import check_analyses

    config = validate_config(tiny_config())
    config["maximise"].update(start="photo", photo="/nonexistent/cat.png")
    config["correspondence"] = {}
    with pytest.raises(ConfigError, match="config key maximise.photo: file '/nonexistent/cat.png' does not exist"):
        check_analyses(config)


def test_a_model_not_trained_here_has_no_variants_or_transfer(check_error, tmp_path):
    (tmp_path / "w.pt").write_bytes(b"")

    def pretrained(config):
        config["models"]["tiny"].update(epochs=0)

    check_error(pretrained, "config key variants.tiny: model tiny is not trained here (epochs: 0)")
    check_error(lambda c: (pretrained(c), c.pop("variants")), "config key transfer.models: model tiny is not trained here")


def test_epochs_zero_needs_torchvision_weights_and_existing_class_names(check_error):
    def torchvision_without_weights(config):
        config["models"]["tres"].update(arch="torchvision:resnet18", epochs=0, params={})

    check_error(torchvision_without_weights, "config key models.tres.weights: epochs: 0 analyses a torchvision model as loaded")
    check_error(lambda c: c["models"]["tres"].update(epochs=0, classes="nowhere.txt"),
                "config key models.tres.classes: 'nowhere.txt' is neither imagenet nor an existing file")
    check_error(lambda c: c["models"]["tres"].update(classes="imagenet"),
                "config key models.tres.classes: names the outputs of a model analysed as loaded")


def test_epochs_zero_has_the_single_checkpoint_zero(tiny_config):
    config = tiny_config()
    config["models"]["tres"].update(epochs=0)
    assert checkpoint_epochs(validate_config(config)["models"]["tres"]) == [0]


def test_unknown_probe_dataset_is_named(check_error):
    check_error(lambda c: c["models"]["tiny"].update(probe=["photoz"]), "models.tiny.probe", "'photoz'", "shapes")


def test_the_old_name_of_the_linear_probes_section_says_its_new_name(check_error):
    check_error(lambda c: c.update(probe=c.pop("linear_probes")), "config key probe", "linear_probes", "models.<name>.probe")


def test_index_shards_must_be_a_positive_count(check_error):
    check_error(lambda c: c["analysis"].update(shards=0), "analysis.shards", "0")
    check_error(lambda c: c["analysis"].update(shards="many"), "analysis.shards", "'many' is not a whole number >= 1 or auto")


def test_batch_sizes_default_to_auto_and_a_bad_one_is_named(check_error, tiny_config):
    config = validate_config(tiny_config())
    assert config["deconv"]["batch_size"] == "auto" and config["analysis"]["job_memory_mb"] == 4000
    assert config["deconv"]["branches"] == "auto"

    def bad_batch(config):
        config["deconv"] = {"batch_size": "big"}

    check_error(bad_batch, "deconv.batch_size", "'big' is not a whole number >= 1 or auto")

    def tiny_budget(config):
        config["analysis"]["job_memory_mb"] = 100

    check_error(tiny_budget, "analysis.job_memory_mb")


def test_training_on_a_folder_without_test_split_is_an_error_unless_a_share_is_held_out(tiny_config, tmp_path):
    (tmp_path / "photos" / "cats").mkdir(parents=True)
    config = tiny_config()
    config["datasets"]["photos"] = {"kind": "imagefolder", "root": str(tmp_path / "photos"), "image_size": 16}
    config["models"]["tiny"]["dataset"] = "photos"
    with pytest.raises(ConfigError) as caught:
        validate_config(copy.deepcopy(config))
    message = str(caught.value)
    assert "models.tiny.epochs" in message and "no test/ folder" in message and "datasets.photos.held_out: 0.2" in message
    config["datasets"]["photos"]["held_out"] = 0.2
    validate_config(copy.deepcopy(config))  # a labelled held-out split: fine
    (tmp_path / "photos" / "test").mkdir()
    with pytest.raises(ConfigError, match="datasets.photos.held_out: .* has its own test/ folder"):
        validate_config(copy.deepcopy(config))


def test_cluster_threads_and_facet_examples_are_checked(check_error):
    check_error(lambda c: c.update(cluster_analysis_threads="four"), "cluster_analysis_threads", "is not of type 'integer'")
    check_error(lambda c: c.update(cluster_training_threads=0), "cluster_training_threads", "less than the minimum of 1")
    check_error(lambda c: c["analysis"].update(facet_examples=-1), "analysis.facet_examples", "less than the minimum of 0")
