# Shared helpers: config validation, target lists, input functions. Rules never hold this logic.
import copy
import os
import re
import time
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.logging import logger
from snakemake.utils import validate

from convatlas.core.errors import ConfigError, DatasetError
from convatlas.core.failures import DEBUG_VARIABLE
from convatlas import results
from convatlas.site import layout
from convatlas.workflow.config import SCHEMA_PATH, checkpoint_epochs, expand_variants, validate_config
from convatlas.workflow.machine import gpu_request, job_threads
from convatlas.workflow.memory import resolve_batch
from convatlas.workflow.plan import (
    check_analyses, fitted_probe, index_shards, model_footprint, model_plan, page_epochs, probe_names,
    sections,
    training_split_mb,
)
from convatlas.workflow.scheduling import results_priority, training_priorities

GIVEN_CONFIG = copy.deepcopy(config)  # as the user wrote it: what it sets, the plan never changes
try:
    validate_config(config)  # clear messages naming the key; fills the schema's defaults
    validate(config, str(SCHEMA_PATH), set_default=False)  # defaults are filled above
    ANALYSED_MODELS = sorted(config["models"])  # the configured models: trained and analysed
    GPU = gpu_request(config["device"])
    # what each model's analysis does: its layers (size-aware defaults), projections, estimated work
    PLANS = {model: model_plan(config, model, bool(GPU), GIVEN_CONFIG) for model in ANALYSED_MODELS}  # checks analysis.layers
    LAYERS = {model: plan.layers for model, plan in PLANS.items()}
    check_analyses(config)  # windows, parts and classes against each model's data
    VARIANTS = expand_variants(config)  # base -> its variants, added to config["models"]: trained, compared, not analysed
    INDEX_SHARDS = index_shards(config)  # shard jobs per index pass (1: the index job does the pass)
except ConfigError as error:
    raise WorkflowError(f"invalid configuration: {error}") from None
except DatasetError as error:  # the plan (and analysis.shards auto) counts the probe images
    raise WorkflowError(f"the probe images cannot be counted: {error}") from None
if config["debug"]:  # jobs print their tracebacks on the terminal too (convatlas/core/failures.py)
    os.environ[DEBUG_VARIABLE] = "1"
TRAINED_MODELS = sorted(config["models"])  # the analysed models and their variants
# Memory: each model's activation sizes from its traced graph; batch sizes set to auto fit the budget,
# and every model job declares its estimated peak as mem_mb (convatlas/workflow/memory.py).
FOOTPRINTS = {model: model_footprint(config, model, LAYERS.get(model)) for model in TRAINED_MODELS}
JOB_MEMORY_MB = config["analysis"]["job_memory_mb"]
SECTIONS = sections(config)  # the optional parts this configuration runs (absent sections are skipped)
ANALYSES = [name for name in layout.ANALYSES if SECTIONS[name]]  # occlusion, correspondence, invariance
SITE = layout.SITE_ROOT
# The machine: heavy (torch) jobs hold a GPU token only when they will run on a GPU (GPU, above), so
# without one they run side by side, each with a share of the cores. A run of one analysed model with
# one checkpoint, trained elsewhere (the own-model case): its training job (an evaluation) and its
# index pass run alone, one after the other, and every other job waits for them, so they get every
# core. Submitting to a cluster, Snakemake has no core count: each job asks for cluster_*_threads.
ONE_PASS = (len(TRAINED_MODELS) == 1 and all(len(checkpoint_epochs(config["models"][m])) == 1 for m in ANALYSED_MODELS)
            and not any(config["models"][m].get("probe") for m in ANALYSED_MODELS))
THREADS = job_threads(workflow.global_resources["_cores"].value, GPU, ONE_PASS, config["cluster_training_threads"],
                      config["cluster_analysis_threads"])
HEAVY_THREADS, CRITICAL_THREADS = THREADS.analysis, THREADS.critical
TRAINING_THREADS, EXTRA_TRAINING_THREADS = THREADS.training, THREADS.extra_training
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


def announce_plan():
    """Print the plan (work, estimated time and disk per model) and write results/plan.json, before
    the first job; a plan that cannot be made must not stop the run."""
    from convatlas.workflow.plan import model_graph
    from convatlas.workflow.plan_file import PLAN_PATH, build_plan, measure_passes, plan_lines, write_plan

    try:
        measured = {}
        for model in PLANS:
            graph = model_graph(config, model)
            measured[model] = measure_passes(graph.model, graph.input_shape, config["models"][model]["arch"])
        plan = build_plan(PLANS, workflow.global_resources["_cores"].value or 1, bool(GPU), measured)
        write_plan(plan)
    except Exception as error:
        logger.warning(f"no plan was written: {type(error).__name__}: {error}")
        return
    logger.info("\n".join([*plan_lines(plan), f"  (kept in {PLAN_PATH}; shown on the run page)"]))


def say_what_was_kept():
    """After a failed or interrupted run: one line on what is kept and how to go on."""
    from convatlas.workflow.benchmarks import finished_since

    try:
        kept = finished_since("benchmarks", RUN_START)
    except Exception:  # a summary that cannot be made must not hide the error above it
        return
    logger.error(f"convatlas stopped: {kept} job(s) of this run finished and are kept in results/ and site/; "
                 "failed or interrupted jobs left no outputs. Run the same command again to go on from here.")


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


# The model jobs: the config section whose batch_size each uses, and the kind of work it does
# (forward: no gradients; backward: projections, attributions, optimisation).
MODEL_JOBS = {
    "index": ("analysis", "forward"),
    "deconv": ("deconv", "backward"),
    "occlusion": ("occlusion", "forward"),
    "correspondence": ("analysis", "forward"),
    "invariance": ("analysis", "forward"),
    "evolution": ("analysis", "forward"),
    "ablation": ("ablation", "forward"),
    "probes": ("analysis", "forward"),
    "maximise": ("analysis", "backward"),
}


MEMORY_MB = {  # rules whose memory does not depend on the model: the most they need (MB)
    "page": 2000,  # a page job: tables, arrays and pictures of one checkpoint, layer or model
    "site": 1000,  # the index and model pages
    "publish": 500,  # publishing a checkpoint (a copy)
}


def model_job_batch(model, job):
    """The batch size of a model job: its section's ``batch_size``, with ``auto`` fitted to the budget."""
    section, kind = MODEL_JOBS[job]
    setting = (config.get(section) or {}).get("batch_size", "auto")
    return resolve_batch(setting, FOOTPRINTS[model], kind, JOB_MEMORY_MB)


def job_batch(job):
    """An input function: the batch size of a model job (see model_job_batch)."""
    return lambda wildcards: model_job_batch(wildcards.model, job)


def job_memory(job):
    """A resource function: a model job's estimated peak memory at its batch size (MB)."""
    kind = MODEL_JOBS[job][1]
    return lambda wildcards: FOOTPRINTS[wildcards.model].peak_mb(kind, model_job_batch(wildcards.model, job))


def training_memory(wildcards):
    """A training job's estimated peak memory: training batches with gradients, evaluation without (MB)."""
    footprint, model = FOOTPRINTS[wildcards.model], config["models"][wildcards.model]
    evaluation = footprint.peak_mb("forward", model_job_batch(wildcards.model, "index"))
    if not model["epochs"]:
        return evaluation
    held = training_split_mb(config["datasets"][model["dataset"]])
    return int(max(evaluation, footprint.peak_mb("backward", model["batch_size"])) + held)


def section_settings(job):
    """An input function: a section's settings with its batch size resolved (see model_job_batch)."""
    section = MODEL_JOBS[job][0]
    return lambda wildcards: {**config[section], "batch_size": model_job_batch(wildcards.model, job)}


def occlusion_settings(wildcards):
    """The occlusion section with the plan's windows and stride (lighter auto ones on a CPU at photo
    sizes) and its batch size resolved."""
    return {**PLANS[wildcards.model].occlusion, "batch_size": model_job_batch(wildcards.model, "occlusion")}


def deconv_branches(wildcards):
    """Whether a model's projections include the trunk and shortcut paths (deconv.branches; auto: the plan's choice)."""
    return PLANS[wildcards.model].branches


def maximise_settings(wildcards):
    """The maximise section with the plan's step counts for the model (maximise.steps, or the size-aware choice)."""
    return PLANS[wildcards.model].maximise


def analysed_layer_names(wildcards):
    """The analysed layers of a model job (analysis.layers, or the plan's size-aware choice)."""
    return LAYERS[wildcards.model]


def site_path(path):
    """A site path (from convatlas.site.layout) as the file Snakemake sees."""
    return f"{SITE}/{path}"


def model_config(wildcards):
    return config["models"][wildcards.model]


def dataset_name(wildcards):
    return config["models"][wildcards.model]["dataset"]


def dataset_config(wildcards):
    return config["datasets"][dataset_name(wildcards)]


def other_probes(model):
    """The model's probe datasets besides its own (models.<m>.probe)."""
    return probe_names(config, model)[1:]


def index_shard_files(model, epoch, probe=None):
    """The shard states an index job merges (none when it does the pass itself)."""
    return [results.index_shard(model, epoch, shard, probe) for shard in range(INDEX_SHARDS)] if INDEX_SHARDS > 1 else []


def index_inputs(wildcards):
    """An index job's checkpoint and, when the pass is sharded, the shard states."""
    shards = index_shard_files(wildcards.model, wildcards.epoch)
    return {"checkpoint": checkpoint_path(wildcards.model, wildcards.epoch), **({"shards": shards} if shards else {})}


def probe_index_inputs(wildcards):
    """A probe index job's checkpoint and, when the pass is sharded, the shard states."""
    shards = index_shard_files(wildcards.model, wildcards.epoch, wildcards.probe)
    return {"checkpoint": checkpoint_path(wildcards.model, wildcards.epoch), **({"shards": shards} if shards else {})}


def probe_dataset_config(wildcards):
    """A probe dataset's config with its images fitted to the model's input."""
    return fitted_probe(config, wildcards.model, wildcards.probe)


def probe_layer_inputs(wildcards):
    """A layer page's inputs from the model's other probe datasets."""
    model, epoch, probes = wildcards.model, wildcards.epoch, other_probes(wildcards.model)
    return {
        "probe_indexes": [results.index(model, epoch, p) for p in probes],
        "probe_stats": [results.channel_stats(model, epoch, p) for p in probes],
        "probe_predictions": [results.predictions(model, epoch, p) for p in probes],
        "probe_layers": [results.manifest(model, epoch, p) for p in probes],
        "probe_projections": [results.projections(model, epoch, wildcards.layer, p) for p in probes],
    }


def probe_page_datasets(wildcards):
    """name -> fitted config of each other probe dataset, for the pictures a page shows."""
    return {p: fitted_probe(config, wildcards.model, p) for p in other_probes(wildcards.model)}


def layer_names(wildcards):
    return LAYERS[wildcards.model]


def model_page_epochs(wildcards):
    return page_epochs(config, wildcards.model)


def facet_examples(wildcards):
    """Top images per channel grouped into facets: at the epochs with pages only (0: none)."""
    shown = wildcards.epoch.isdigit() and int(wildcards.epoch) in page_epochs(config, wildcards.model)
    return config["analysis"]["facet_examples"] if shown else 0


def previous_layer(wildcards):
    """The analysed layer before ``{layer}`` ("" for the first): where its connections come from."""
    names = LAYERS[wildcards.model]
    position = names.index(wildcards.layer)
    return names[position - 1] if position > 0 else ""


def next_layer(wildcards):
    """The analysed layer after ``{layer}`` ("" for the last): the channels it feeds."""
    names = LAYERS[wildcards.model]
    position = names.index(wildcards.layer)
    return names[position + 1] if position + 1 < len(names) else ""


def model_epochs(wildcards):
    return epochs_of(wildcards.model)


def epochs_of(model):
    return checkpoint_epochs(config["models"][model])


def last_page_epoch(model):
    return page_epochs(config, model)[-1]


def checkpoint_path(model, epoch):
    return results.checkpoint(model, epoch)


def layer_projections_all_epochs(wildcards):
    """A layer's projections at every checkpoint, for its feature-evolution strips."""
    return [results.projections(wildcards.model, e, wildcards.layer) for e in epochs_of(wildcards.model)]


def layer_ablation_tables(wildcards):
    return [results.channel_ablation(wildcards.model, wildcards.epoch, layer) for layer in LAYERS[wildcards.model]]


def model_page_files(model):
    """The last page each page job of a model writes (see layout.page_files)."""
    return [site_path(page) for page in layout.page_files(model, page_epochs(config, model), LAYERS[model], SECTIONS)]


def all_page_files():
    return [page for model in ANALYSED_MODELS for page in model_page_files(model)]


def optional_layer_inputs(wildcards):
    """A layer page's ablation table and maximised images, when those sections run."""
    model, epoch, layer = wildcards.model, wildcards.epoch, wildcards.layer
    inputs = {}
    if SECTIONS["ablation"]:
        inputs["ablation"] = results.channel_ablation(model, epoch, layer)
    if SECTIONS["maximise"]:
        inputs["maximise"] = results.maximised(model, epoch, layer)
    return inputs


def analysis_files(model, epoch):
    """Per analysis, the result files its pages and the findings read."""
    return {
        "occlusion": {"occlusion": results.occlusion(model, epoch)},
        "correspondence": {"correspondence_table": results.correspondence(model, epoch, "table"),
                           "correspondence_pairs": results.correspondence(model, epoch, "pairs"),
                           "correspondence_meta": results.correspondence(model, epoch, "meta")},
        "invariance": {"invariance_table": results.invariance(model, epoch, "table"),
                       "invariance_strips": results.invariance(model, epoch, "strips")},
    }


def analysis_inputs(wildcards):
    """The results the analysis pages of a checkpoint show: those of the analyses that run."""
    files = analysis_files(wildcards.model, wildcards.epoch)
    return {key: path for name in ANALYSES for key, path in files[name].items()}


def findings_inputs(wildcards):
    """What a model's findings page reads: the analyses of its last page epoch that run, the
    settling of its channels when it has two checkpoints or more, and its variants table."""
    model = wildcards.model
    files = analysis_files(model, last_page_epoch(model))
    inputs = {key: path for name in ANALYSES for key, path in files[name].items() if key != "correspondence_table"}
    if len(epochs_of(model)) > 1:
        inputs["evolution"] = results.evolution(model)
    if model in VARIANTS:
        inputs["variants"] = results.variants(model)
    return inputs


def layer_projections(wildcards):
    """The projections (with their sanity checks) of every analysed layer of a checkpoint: the
    occlusion figures show the picture the checks allow at the occlusion layer."""
    if "occlusion" not in ANALYSES:
        return []
    return [results.projections(wildcards.model, wildcards.epoch, layer) for layer in LAYERS[wildcards.model]]


def training_priority(wildcards):
    return TRAINING_PRIORITY[wildcards.model]


TRACKED = {}  # model -> fingerprints of its code, weights and dataset, computed once per run


def model_tracking(wildcards):
    """A param function: the fingerprints of what a model's training reads besides the config (its
    code, weights file and dataset files; convatlas/workflow/tracking.py). A change to any reruns
    the training job, and so everything made from its checkpoints."""
    from convatlas.workflow.tracking import model_fingerprints

    if wildcards.model not in TRACKED:
        model = config["models"][wildcards.model]
        TRACKED[wildcards.model] = model_fingerprints(model, config["datasets"][model["dataset"]])
    return TRACKED[wildcards.model]


def probe_tracking(wildcards):
    """A param function: the fingerprint of another probe dataset's files, for the jobs that read it."""
    from convatlas.workflow.tracking import dataset_fingerprint

    key = f"probe:{wildcards.probe}"
    if key not in TRACKED:
        TRACKED[key] = dataset_fingerprint(config["datasets"][wildcards.probe])
    return TRACKED[key]


def train_state_dir(wildcards):
    """Where training keeps its resumable state and the checkpoints it has saved."""
    return results.train_dir(wildcards.model)


def training_log(model, epoch):
    """The log of a model's training up to a checkpoint epoch (the output of that training segment)."""
    return results.train_log(model, epoch)


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
    return results.transfer_dir(wildcards.model)


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
        path(m, e)
        for m in ANALYSED_MODELS
        for e in epochs_of(m)
        for path in (results.index, results.channel_stats, results.predictions, results.manifest)
    ]


def all_targets():
    return [
        *all_checkpoints(),
        *all_indexes(),
        site_path(layout.index_page()),
        site_path(layout.compare_page()),
        *[results.variants(base) for base in VARIANTS],
        *all_page_files(),
        *[site_path(layout.model_page(model)) for model in ANALYSED_MODELS],
    ]
