"""The order jobs start in when more are ready than the machine can run (Snakemake's ``priority``).

Results first: a job that turns a saved checkpoint into results (index, projections, analyses,
pages) starts before more training, so with training split into one job per checkpoint the early
checkpoints are analysed while later epochs train, and the run ends soon after the last epoch.
Among training jobs, the model with the most analysed layers (the most jobs waiting on each of its
checkpoints) trains first; a model that is only compared (a variant, no analysed layers) trains
last, beside the others' analyses. On a machine with a free core for every ready job, priorities
change nothing.
"""
from __future__ import annotations


def training_priorities(trained: list[str], layers: dict[str, list[str]]) -> dict[str, int]:
    """Each trained model's training priority: the number of its analysed layers (0 for a model
    that is trained only to be compared)."""
    return {model: len(layers.get(model, [])) for model in trained}


def results_priority(training: dict[str, int]) -> int:
    """The priority of every job that is not training: above every training job's."""
    return max(training.values(), default=0) + 1
