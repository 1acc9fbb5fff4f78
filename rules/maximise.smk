# Stage 7, maximise: activation maximisation, one job per (model, epoch, layer) for the channels and
# one per (model, epoch) for the classes.


rule maximise:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
        index=results.index("{model}", "{epoch}"),
    output:
        images=results.maximised("{model}", "{epoch}", "{layer}"),
    log:
        "logs/maximise/{model}-{epoch}-{layer}.log",
    benchmark:
        "benchmarks/maximise/{model}-{epoch}-{layer}.tsv",
    params:
        layer="{layer}",
        dataset=dataset_config,
        settings=maximise_settings,
        batch_size=job_batch("maximise"),
        channels=config["analysis"]["channels_per_layer"],
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("maximise"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/maximise.py"


rule class_images:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
        predictions=results.predictions("{model}", "{epoch}"),
    output:
        images=results.class_images("{model}", "{epoch}", "npz"),
        png=results.class_images("{model}", "{epoch}", "png"),
    log:
        "logs/class_images/{model}-{epoch}.log",
    benchmark:
        "benchmarks/class_images/{model}-{epoch}.tsv",
    params:
        settings=maximise_settings,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("maximise"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/class_images.py"
