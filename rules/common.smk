# Shared helpers: config validation, target lists, paths. Rules never hold this logic.
import re
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

from convatlas.config import SCHEMA_PATH, checkpoint_epochs, expand_variants, validate_config
from convatlas.errors import ConfigError
from convatlas.plan import analysed_layers, check_analyses, page_epochs

try:
    validate_config(config)  # clear messages naming the key; fills the schema's defaults
    validate(config, str(SCHEMA_PATH), set_default=False)  # defaults are filled above
    MODELS = sorted(config["models"])  # the analysed models
    LAYERS = {model: analysed_layers(config, model) for model in MODELS}  # checks analysis.layers
    check_analyses(config)  # windows, parts and classes against each model's data
    VARIANTS = expand_variants(config)  # architecture variants: trained, compared, not analysed
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None
TRAINED = sorted(config["models"])

TEMPLATES = str(Path(workflow.basedir) / "templates")


wildcard_constraints:
    model="|".join(sorted((re.escape(m) for m in TRAINED), key=len, reverse=True)),
    epoch=r"\d+",
    layer="|".join(sorted({re.escape(name) for names in LAYERS.values() for name in names}, key=len, reverse=True)),


def model_config(wildcards):
    return config["models"][wildcards.model]


def dataset_name(wildcards):
    return config["models"][wildcards.model]["dataset"]


def dataset_config(wildcards):
    return config["datasets"][dataset_name(wildcards)]


def layer_names(wildcards):
    return LAYERS[wildcards.model]


def model_page_epochs(wildcards):
    return page_epochs(config, wildcards.model)


def model_epochs(wildcards):
    return epochs_of(wildcards.model)


def layer_projections_all_epochs(wildcards):
    """A layer's projections at every checkpoint, for its feature-evolution strips."""
    return [f"results/{wildcards.model}/epoch-{e}/deconv/{wildcards.layer}.npz" for e in epochs_of(wildcards.model)]


def layer_ablation_tables(wildcards):
    return [f"results/{wildcards.model}/epoch-{wildcards.epoch}/ablation/{layer}.parquet" for layer in LAYERS[wildcards.model]]


def layer_page_dirs(model):
    """The folders of every page of a model below its page: per page epoch, one per layer, plus
    feature maps and the occlusion, correspondence and invariance analyses."""
    return [
        f"site/models/{model}/epoch-{e}/{folder}"
        for e in page_epochs(config, model)
        for folder in [*LAYERS[model], "feature-maps", "analyses", "ablation"]
    ]


def epochs_of(model):
    return checkpoint_epochs(config["models"][model])


def checkpoint_path(model, epoch):
    return f"results/{model}/checkpoints/epoch-{epoch}.pt"


def train_state_dir(wildcards):
    """Where training keeps its resumable state and the checkpoints it has saved."""
    return f"results/{wildcards.model}/train"


def stashed_checkpoint(wildcards):
    return f"{train_state_dir(wildcards)}/epoch-{wildcards.epoch}.pt"


def transfer_state_dir(wildcards):
    """Where the transfer job keeps its resumable source-class training."""
    return f"results/transfer/{wildcards.model}"


def final_checkpoint(wildcards):
    return checkpoint_path(wildcards.model, epochs_of(wildcards.model)[-1])


def all_checkpoints():
    return [checkpoint_path(m, e) for m in TRAINED for e in epochs_of(m)]


def variant_checkpoints(wildcards):
    """The final checkpoint of each variant of a base model."""
    return [checkpoint_path(v, epochs_of(v)[-1]) for v in VARIANTS[wildcards.model]]


def variant_names(wildcards):
    return VARIANTS[wildcards.model]


def variant_base_checkpoint(wildcards):
    return checkpoint_path(wildcards.model, config["variants"][wildcards.model].get("epochs", 2))


def all_indexes():
    return [
        f"results/{m}/epoch-{e}/{name}"
        for m in MODELS
        for e in epochs_of(m)
        for name in ("index.parquet", "channel_stats.parquet", "predictions.parquet", "layers.json")
    ]


def all_targets():
    return [
        *all_checkpoints(),
        *all_indexes(),
        "site/index.html",
        "site/compare.html",
        *[f"results/{base}/variants.parquet" for base in VARIANTS],
        *[folder for m in MODELS for folder in layer_page_dirs(m)],
        *expand("site/models/{model}/index.html", model=MODELS),
    ]
