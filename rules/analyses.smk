# Stage 4, analyses: occlusion, correspondence and invariance, one job per (model, epoch, analysis),
# and their pages.


rule occlusion:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        maps=results.occlusion("{model}", "{epoch}"),
    log:
        "logs/occlusion/{model}-{epoch}.log",
    benchmark:
        "benchmarks/occlusion/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        settings=occlusion_settings,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("occlusion"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/occlusion.py"


rule correspondence:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        table=results.correspondence("{model}", "{epoch}", "table"),
        pairs=results.correspondence("{model}", "{epoch}", "pairs"),
        meta=results.correspondence("{model}", "{epoch}", "meta"),
    log:
        "logs/correspondence/{model}-{epoch}.log",
    benchmark:
        "benchmarks/correspondence/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        settings=config.get("correspondence"),
        layers=analysed_layer_names,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("correspondence"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/correspondence.py"


rule invariance:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        table=results.invariance("{model}", "{epoch}", "table"),
        strips=results.invariance("{model}", "{epoch}", "strips"),
    log:
        "logs/invariance/{model}-{epoch}.log",
    benchmark:
        "benchmarks/invariance/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        settings=config.get("invariance"),
        layers=analysed_layer_names,
        batch_size=job_batch("invariance"),
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("invariance"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/invariance.py"


rule evolution:
    input:
        checkpoints=lambda wildcards: [checkpoint_path(wildcards.model, e) for e in epochs_of(wildcards.model)],
    output:
        table=results.evolution("{model}"),
    log:
        "logs/evolution/{model}.log",
    benchmark:
        "benchmarks/evolution/{model}.tsv",
    params:
        dataset=dataset_config,
        layers=analysed_layer_names,
        epochs=model_epochs,
        images=config["analysis"]["evolution_images"],
        batch_size=job_batch("evolution"),
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("evolution"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/evolution.py"


rule analysis_pages:
    input:
        unpack(analysis_inputs),
        layers=results.manifest("{model}", "{epoch}"),
        deconvs=layer_projections,
    output:
        pages=[site_path(layout.analysis_page("{model}", "{epoch}", name)) for name in ANALYSES],
    log:
        "logs/analysis_pages/{model}-{epoch}.log",
    benchmark:
        "benchmarks/analysis_pages/{model}-{epoch}.tsv",
    params:
        model="{model}",
        epoch="{epoch}",
        dataset=dataset_config,
        dataset_name=dataset_name,
        layer_names=layer_names,
        analyses=ANALYSES,
        lead=config["deconv"]["lead"],
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/analysis_pages.py"
