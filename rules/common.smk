# Shared helpers: config validation, target lists, input functions. Rules never hold this logic.
import re
import time
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from convatlas.core.errors import ConfigError, DatasetError
from convatlas.site import layout
from convatlas.workflow.config import SCHEMA_PATH, checkpoint_epochs, expand_variants, validate_config
from convatlas.workflow.machine import gpu_request, heavy_job_threads
from convatlas.workflow.plan import (
    analysed_layers, check_analyses, fitted_probe, index_shards, page_epochs, probe_names, sections,
)
from convatlas.workflow.scheduling import results_priority, training_priorities

try:
    validate_config(config)  # clear messages naming the key; fills the schema's defaults
    validate(config, str(SCHEMA_PATH), set_default=False)  # defaults are filled above
    ANALYSED_MODELS = sorted(config["models"])  # the configured models: trained and analysed
    LAYERS = {model: analysed_layers(config, model) for model in ANALYSED_MODELS}  # checks analysis.layers
    check_analyses(config)  # windows, parts and classes against each model's data
    VARIANTS = expand_variants(config)  # base -> its variants, added to config["models"]: trained, compared, not analysed
    INDEX_SHARDS = index_shards(config)  # shard jobs per index pass (1: the index job does the pass)
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None
except DatasetError as error:  # analysis.shards auto counts the probe images
    raise WorkflowError(f"analysis.shards auto cannot count the probe images: {error}") from None
TRAINED_MODELS = sorted(config["models"])  # the analysed models and their variants
SECTIONS = sections(config)  # the optional parts this configuration runs (absent sections are skipped)
ANALYSES = [name for name in layout.ANALYSES if SECTIONS[name]]  # occlusion, correspondence, invariance
SITE = layout.SITE_ROOT
# The machine: heavy (torch) jobs hold a GPU token only when they will run on a GPU, so without one
# they run side by side, each with a share of the cores (profiles may set-threads / set-resources).
GPU = gpu_request(config["device"])
HEAVY_THREADS = heavy_job_threads(workflow.global_resources["_cores"].value, GPU)
# The order ready jobs start in when they outnumber the cores (convatlas/workflow/scheduling.py):
# results of saved checkpoints first, then training, models with the most analysed layers first.
TRAINING_PRIORITY = training_priorities(TRAINED_MODELS, LAYERS)
RESULTS_FIRST = results_priority(TRAINING_PRIORITY)
TEMPLATES = str(Path(workflow.basedir) / "templates")
RUN_START = time.time()  # this run's jobs are those whose benchmark started after it


def dag_dependencies():
    """(job, dependency) pairs of benchmark files from Snakemake's DAG of this run; (job, "") for a
    job that depends on no other."""
    dag = workflow.dag
    edges = []
    for job in dag.jobs:
        if job.benchmark:
            needs = [str(dep.benchmark) for dep in dag.dependencies[job] if dep.benchmark]
            edges.extend((str(job.benchmark), need) for need in needs or [""])
    return edges


def write_run_page_of_this_run(log):
    """site/run.html from the benchmark files of this run's jobs (called once all jobs succeeded)."""
    from convatlas.site.pages.run import write_run_page
    from convatlas.workflow.benchmarks import write_dependencies

    try:
        write_dependencies("benchmarks", dag_dependencies())
        logs = [log] if isinstance(log, str) else list(log or [])  # Snakemake passes its log file(s)
        page = write_run_page(".", Path(workflow.basedir) / "rules", TEMPLATES, config["site"]["title"], RUN_START,
                              ", ".join(str(path) for path in logs) or None)
    except Exception as error:  # the atlas is complete; a run page that cannot be drawn must not fail the run
        logger.warning(f"the run page could not be written: {type(error).__name__}: {error}")
        return
    if page:
        logger.info(f"What this run cost, job by job: {page}")


wildcard_constraints:
    model="|".join(sorted((re.escape(m) for m in TRAINED_MODELS), key=len, reverse=True)),
    epoch=r"\d+",
    shard=r"\d+",
    layer="|".join(sorted({re.escape(name) for names in LAYERS.values() for name in names}, key=len, reverse=True)),
    probe="|".join(sorted((re.escape(d) for d in config["datasets"]), key=len, reverse=True)),


def site_path(path):
    """A site path (from convatlas.site.layout) as the file Snakemake sees."""
    return f"{SITE}/{path}"


def results(model, epoch, name):
    """A result file of one checkpoint."""
    return f"results/{model}/epoch-{epoch}/{name}"


def model_config(wildcards):
    return config["models"][wildcards.model]


def dataset_name(wildcards):
    return config["models"][wildcards.model]["dataset"]


def dataset_config(wildcards):
    return config["datasets"][dataset_name(wildcards)]


def other_probes(model):
    """The model's probe datasets besides its own (models.<m>.probe)."""
    return probe_names(config, model)[1:]


def index_shard_files(prefix):
    """The shard states an index job under ``prefix`` merges (none when it does the pass itself)."""
    return [f"{prefix}/index-shards/{shard}.npz" for shard in range(INDEX_SHARDS)] if INDEX_SHARDS > 1 else []


def index_inputs(wildcards):
    """An index job's checkpoint and, when the pass is sharded, the shard states."""
    shards = index_shard_files(results(wildcards.model, wildcards.epoch, "").rstrip("/"))
    return {"checkpoint": checkpoint_path(wildcards.model, wildcards.epoch), **({"shards": shards} if shards else {})}


def probe_index_inputs(wildcards):
    """A probe index job's checkpoint and, when the pass is sharded, the shard states."""
    shards = index_shard_files(results(wildcards.model, wildcards.epoch, f"probe-{wildcards.probe}"))
    return {"checkpoint": checkpoint_path(wildcards.model, wildcards.epoch), **({"shards": shards} if shards else {})}


def probe_dataset_config(wildcards):
    """A probe dataset's config with its images fitted to the model's input."""
    return fitted_probe(config, wildcards.model, wildcards.probe)


def probe_results(wildcards, name):
    """One result file per other probe dataset of the model at this epoch, e.g. ``index.parquet``."""
    return [results(wildcards.model, wildcards.epoch, f"probe-{p}/{name}") for p in other_probes(wildcards.model)]


def probe_layer_inputs(wildcards):
    """A layer page's inputs from the model's other probe datasets."""
    return {
        f"probe_{key}": probe_results(wildcards, name)
        for key, name in [("indexes", "index.parquet"), ("stats", "channel_stats.parquet"),
                          ("predictions", "predictions.parquet"), ("layers", "layers.json"),
                          ("projections", f"deconv/{wildcards.layer}.npz")]
    }


def probe_page_datasets(wildcards):
    """name -> fitted config of each other probe dataset, for the pictures a page shows."""
    return {p: fitted_probe(config, wildcards.model, p) for p in other_probes(wildcards.model)}


def layer_names(wildcards):
    return LAYERS[wildcards.model]


def model_page_epochs(wildcards):
    return page_epochs(config, wildcards.model)


def model_epochs(wildcards):
    return epochs_of(wildcards.model)


def epochs_of(model):
    return checkpoint_epochs(config["models"][model])


def last_page_epoch(model):
    return page_epochs(config, model)[-1]


def checkpoint_path(model, epoch):
    return f"results/{model}/checkpoints/epoch-{epoch}.pt"


def layer_projections_all_epochs(wildcards):
    """A layer's projections at every checkpoint, for its feature-evolution strips."""
    return [results(wildcards.model, e, f"deconv/{wildcards.layer}.npz") for e in epochs_of(wildcards.model)]


def layer_ablation_tables(wildcards):
    return [results(wildcards.model, wildcards.epoch, f"ablation/{layer}.parquet") for layer in LAYERS[wildcards.model]]


def model_page_files(model):
    """The last page each page job of a model writes (see layout.page_files)."""
    return [site_path(page) for page in layout.page_files(model, page_epochs(config, model), LAYERS[model], SECTIONS)]


def all_page_files():
    return [page for model in ANALYSED_MODELS for page in model_page_files(model)]


def optional_layer_inputs(wildcards):
    """A layer page's ablation table and maximised images, when those sections run."""
    prefix = f"results/{wildcards.model}/epoch-{wildcards.epoch}"
    inputs = {}
    if SECTIONS["ablation"]:
        inputs["ablation"] = f"{prefix}/ablation/{wildcards.layer}.parquet"
    if SECTIONS["maximise"]:
        inputs["maximise"] = f"{prefix}/maximise/{wildcards.layer}.npz"
    return inputs


def analysis_inputs(wildcards):
    """The results the analysis pages of a checkpoint show: those of the analyses that run."""
    prefix = f"results/{wildcards.model}/epoch-{wildcards.epoch}"
    files = {
        "occlusion": {"occlusion": f"{prefix}/occlusion.npz"},
        "correspondence": {"correspondence_table": f"{prefix}/correspondence.parquet",
                           "correspondence_meta": f"{prefix}/correspondence.json"},
        "invariance": {"invariance_table": f"{prefix}/invariance.parquet", "invariance_strips": f"{prefix}/invariance.npz"},
    }
    return {key: path for name in ANALYSES for key, path in files[name].items()}


def training_priority(wildcards):
    return TRAINING_PRIORITY[wildcards.model]


def train_state_dir(wildcards):
    """Where training keeps its resumable state and the checkpoints it has saved."""
    return f"results/{wildcards.model}/train"


def training_log(model, epoch):
    """The log of a model's training up to a checkpoint epoch (the output of that training segment)."""
    return f"results/{model}/train/log-{epoch}.tsv"


def previous_training_segment(wildcards):
    """The training segment a segment resumes from: that of the checkpoint before (none for the first)."""
    epochs = epochs_of(wildcards.model)
    epoch = int(wildcards.epoch)
    if epoch not in epochs:
        raise WorkflowError(f"models.{wildcards.model}: {epoch} is not one of its checkpoint epochs {epochs}")
    position = epochs.index(epoch)
    return [training_log(wildcards.model, epochs[position - 1])] if position else []


def full_train_log(wildcards):
    """The log of every epoch: the last training segment's."""
    return training_log(wildcards.model, epochs_of(wildcards.model)[-1])


def stashed_checkpoint(wildcards):
    return f"{train_state_dir(wildcards)}/epoch-{wildcards.epoch}.pt"


def transfer_state_dir(wildcards):
    """Where transfer_source keeps its resumable source-class training."""
    return f"results/transfer/{wildcards.model}"


def final_checkpoint(wildcards):
    return checkpoint_path(wildcards.model, epochs_of(wildcards.model)[-1])


def all_checkpoints():
    return [checkpoint_path(m, e) for m in TRAINED_MODELS for e in epochs_of(m)]


def variant_checkpoints(wildcards):
    """The final checkpoint of each variant of a base model."""
    return [checkpoint_path(v, epochs_of(v)[-1]) for v in VARIANTS[wildcards.model]]


def variant_names(wildcards):
    return VARIANTS[wildcards.model]


def variant_base_checkpoint(wildcards):
    return checkpoint_path(wildcards.model, config["variants"][wildcards.model]["epochs"])


def all_indexes():
    return [
        results(m, e, name)
        for m in ANALYSED_MODELS
        for e in epochs_of(m)
        for name in ("index.parquet", "channel_stats.parquet", "predictions.parquet", "layers.json")
    ]


def all_targets():
    return [
        *all_checkpoints(),
        *all_indexes(),
        site_path(layout.index_page()),
        site_path(layout.compare_page()),
        *[f"results/{base}/variants.parquet" for base in VARIANTS],
        *all_page_files(),
        *[site_path(layout.model_page(model)) for model in ANALYSED_MODELS],
    ]
