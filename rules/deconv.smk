# Stage 3, deconv: projections of every channel's top-k activations, one job per (model, epoch, layer).


rule deconv:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
        index=results.index("{model}", "{epoch}"),
    output:
        projections=results.projections("{model}", "{epoch}", "{layer}"),
    log:
        "logs/deconv/{model}-{epoch}-{layer}.log",
    benchmark:
        "benchmarks/deconv/{model}-{epoch}-{layer}.tsv",
    params:
        layer="{layer}",
        previous_layer=previous_layer,
        next_layer=next_layer,
        dataset=dataset_config,
        probe=dataset_name,
        methods=config["deconv"]["methods"],
        branches=deconv_branches,
        checks=True,
        batch_size=job_batch("deconv"),
        channels=config["analysis"]["channels_per_layer"],
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("deconv"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/deconv.py"


rule probe_deconv:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
        index=results.index("{model}", "{epoch}", "{probe}"),
    output:
        projections=results.projections("{model}", "{epoch}", "{layer}", "{probe}"),
    log:
        "logs/probe_deconv/{model}-{epoch}-{probe}-{layer}.log",
    benchmark:
        "benchmarks/probe_deconv/{model}-{epoch}-{probe}-{layer}.tsv",
    params:
        layer="{layer}",
        previous_layer="",  # connections: on the model's own images only
        next_layer="",
        dataset=probe_dataset_config,
        probe="{probe}",
        methods=config["deconv"]["methods"][:1],
        branches=False,
        checks=False,
        batch_size=job_batch("deconv"),
        channels=config["analysis"]["channels_per_layer"],
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("deconv"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/deconv.py"
