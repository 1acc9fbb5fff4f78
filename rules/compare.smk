# Stage 6, compare: linear probes per checkpoint, transfer to new classes per model (its training on
# the source classes, then the few-shot fits), and the page that compares the architectures.


rule linear_probes:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        table=results.linear_probes("{model}", "{epoch}"),
    log:
        "logs/linear_probes/{model}-{epoch}.log",
    benchmark:
        "benchmarks/linear_probes/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        layers=analysed_layer_names,
        settings=config.get("linear_probes"),
        batch_size=job_batch("probes"),
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("probes"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/linear_probes.py"


rule transfer_source:
    output:
        checkpoint=results.transfer_source("{model}"),
    log:
        "logs/transfer_source/{model}.log",
    benchmark:
        "benchmarks/transfer_source/{model}.tsv",
    params:
        model_name="{model}",
        model=model_config,
        dataset_name=dataset_name,
        dataset=dataset_config,
        settings=config["transfer"],
        state_dir=transfer_state_dir,
        tracked=model_tracking,
        device=config["device"],
    threads: EXTRA_TRAINING_THREADS
    resources:
        gpu=GPU,
        mem_mb=training_memory,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/transfer_source.py"


rule transfer:
    input:
        source=results.transfer_source("{model}"),
    output:
        table=results.transfer_table("{model}"),
    log:
        "logs/transfer/{model}.log",
    benchmark:
        "benchmarks/transfer/{model}.tsv",
    params:
        model=model_config,
        dataset_name=dataset_name,
        dataset=dataset_config,
        settings=config["transfer"],
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=training_memory,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/transfer.py"


rule compare:
    input:
        summaries=expand(results.summary("{model}"), model=ANALYSED_MODELS),
        stats=[results.channel_stats(m, last_page_epoch(m)) for m in ANALYSED_MODELS],
        probes=[results.linear_probes(m, last_page_epoch(m)) for m in ANALYSED_MODELS if SECTIONS["linear_probes"]],
        occlusions=[results.occlusion(m, last_page_epoch(m)) for m in ANALYSED_MODELS if SECTIONS["occlusion"]],
        transfers=expand(results.transfer_table("{model}"), model=config["transfer"]["models"]),
        probe_stats=[results.channel_stats(m, last_page_epoch(m), p) for m in ANALYSED_MODELS for p in other_probes(m)],
        deconvs=[results.projections(m, last_page_epoch(m), layer) for m in ANALYSED_MODELS for layer in LAYERS[m]],
        predictions=[results.predictions(m, last_page_epoch(m)) for m in ANALYSED_MODELS],
        pages=all_page_files(),
    output:
        page=site_path(layout.compare_page()),
    log:
        "logs/compare/compare.log",
    benchmark:
        "benchmarks/compare/compare.tsv",
    params:
        models=ANALYSED_MODELS,
        epochs={m: last_page_epoch(m) for m in ANALYSED_MODELS},
        transfer_models=config["transfer"]["models"],
        probe_pairs=[[m, p] for m in ANALYSED_MODELS for p in other_probes(m)],
        deconv_pairs=[[m, layer] for m in ANALYSED_MODELS for layer in LAYERS[m]],
        lead=config["deconv"]["lead"],
        sections=SECTIONS,
        own_datasets={m: config["models"][m]["dataset"] for m in ANALYSED_MODELS},
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/compare.py"
