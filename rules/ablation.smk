# Stage 5, ablation: each channel switched off alone per (model, epoch, layer); named sets switched
# off together per (model, epoch); variants (architectures with layers changed) against their base
# model; and the ablation page.


rule channel_ablation:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        table=results.channel_ablation("{model}", "{epoch}", "{layer}"),
    log:
        "logs/channel_ablation/{model}-{epoch}-{layer}.log",
    benchmark:
        "benchmarks/channel_ablation/{model}-{epoch}-{layer}.tsv",
    params:
        layer="{layer}",
        dataset=dataset_config,
        settings=section_settings("ablation"),
        channels=config["analysis"]["channels_per_layer"],
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("ablation"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/channel_ablation.py"


rule ablation_experiments:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
        stats=results.channel_stats("{model}", "{epoch}"),
    output:
        experiments=results.ablation_experiments("{model}", "{epoch}"),
    log:
        "logs/ablation_experiments/{model}-{epoch}.log",
    benchmark:
        "benchmarks/ablation_experiments/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        settings=section_settings("ablation"),
        layers=analysed_layer_names,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("ablation"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/ablation_experiments.py"


rule variants:
    input:
        base=variant_base_checkpoint,
        variants=variant_checkpoints,
    output:
        table=results.variants("{model}"),
    log:
        "logs/variants/{model}.log",
    benchmark:
        "benchmarks/variants/{model}.tsv",
    params:
        model="{model}",
        variants=variant_names,
        dataset=dataset_config,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=training_memory,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/variants.py"


rule ablation_pages:
    input:
        experiments=results.ablation_experiments("{model}", "{epoch}"),
        layer_tables=layer_ablation_tables,
        layers=results.manifest("{model}", "{epoch}"),
    output:
        page=site_path(layout.ablation_page("{model}", "{epoch}")),
    log:
        "logs/ablation_pages/{model}-{epoch}.log",
    benchmark:
        "benchmarks/ablation_pages/{model}-{epoch}.tsv",
    params:
        model="{model}",
        epoch="{epoch}",
        dataset=dataset_config,
        dataset_name=dataset_name,
        layer_names=layer_names,
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/ablation_pages.py"
