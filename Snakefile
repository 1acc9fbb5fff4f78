# convatlas: CNNs and an image dataset in, a static HTML atlas of every layer and channel out.
# Settings of the experiment: config.yaml (validated against convatlas/schemas/config.schema.yaml).
# Settings of the machine: profiles/ (default for local runs, slurm for clusters).
# One rules/<stage>.smk per stage; each rule's job is scripts/<rule>.py -> convatlas.jobs.<stage>.run_<rule>.
from snakemake.utils import min_version

min_version("9.19")


configfile: "config.yaml"


include: "rules/common.smk"


rule all:
    input:
        all_targets(),
    default_target: True


include: "rules/train.smk"
include: "rules/index.smk"
include: "rules/deconv.smk"
include: "rules/analyses.smk"
include: "rules/ablation.smk"
include: "rules/compare.smk"
include: "rules/maximise.smk"
include: "rules/site.smk"


onstart:
    announce_plan()


onsuccess:
    write_run_page_of_this_run(log)


onerror:
    say_what_was_kept()
