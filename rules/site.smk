# Stage 8, site: model summaries, the layer and channel pages (one job per model, epoch and layer),
# the feature-map pages, and the index and model pages. Page jobs read tables, arrays and pictures;
# they never run a model.


rule model_summary:
    input:
        checkpoint=final_checkpoint,
        train_log=full_train_log,
    output:
        summary=results.summary("{model}"),
        curves=results.plot("{model}", "curves"),
        per_class=results.plot("{model}", "per_class"),
    log:
        "logs/model_summary/{model}.log",
    benchmark:
        "benchmarks/model_summary/{model}.tsv",
    params:
        model="{model}",
        layers=analysed_layer_names,
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/model_summary.py"


rule layer_pages:
    input:
        unpack(probe_layer_inputs),
        unpack(optional_layer_inputs),
        index=results.index("{model}", "{epoch}"),
        stats=results.channel_stats("{model}", "{epoch}"),
        predictions=results.predictions("{model}", "{epoch}"),
        layers=results.manifest("{model}", "{epoch}"),
        levels=results.levels("{model}", "{epoch}"),
        facets=results.facets("{model}", "{epoch}"),
        projections=results.projections("{model}", "{epoch}", "{layer}"),
        evolution=layer_projections_all_epochs,
    output:
        page=site_path(layout.layer_page("{model}", "{epoch}", "{layer}")),
    log:
        "logs/layer_pages/{model}-{epoch}-{layer}.log",
    benchmark:
        "benchmarks/layer_pages/{model}-{epoch}-{layer}.tsv",
    params:
        model="{model}",
        epoch="{epoch}",
        layer="{layer}",
        dataset=dataset_config,
        dataset_name=dataset_name,
        probes=probe_page_datasets,
        layer_names=layer_names,
        page_epochs=model_page_epochs,
        evolution_epochs=model_epochs,
        overview_channels=config["deconv"]["overview_channels"],
        evolution_channels=config["deconv"]["evolution_channels"],
        lead=config["deconv"]["lead"],
        sections=SECTIONS,
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/layer_pages.py"


rule feature_maps:
    input:
        maps=results.feature_maps("{model}", "{epoch}"),
        layers=results.manifest("{model}", "{epoch}"),
    output:
        page=site_path(layout.feature_maps_page("{model}", "{epoch}")),
    log:
        "logs/feature_maps/{model}-{epoch}.log",
    benchmark:
        "benchmarks/feature_maps/{model}-{epoch}.tsv",
    params:
        model="{model}",
        epoch="{epoch}",
        dataset=dataset_config,
        dataset_name=dataset_name,
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/feature_maps.py"


rule findings:
    input:
        unpack(findings_inputs),
        summary=results.summary("{model}"),
        layers=lambda wildcards: results.manifest(wildcards.model, last_page_epoch(wildcards.model)),
    output:
        findings=results.findings("{model}"),
        page=site_path(layout.findings_page("{model}")),
    log:
        "logs/findings/{model}.log",
    benchmark:
        "benchmarks/findings/{model}.tsv",
    params:
        model="{model}",
        epoch=lambda wildcards: last_page_epoch(wildcards.model),
        dataset=dataset_config,
        dataset_name=dataset_name,
        sections=SECTIONS,
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["page"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/findings.py"


rule site:
    input:
        summaries=expand(results.summary("{model}"), model=ANALYSED_MODELS),
        curves=expand(results.plot("{model}", "curves"), model=ANALYSED_MODELS),
        per_class=expand(results.plot("{model}", "per_class"), model=ANALYSED_MODELS),
        pages=all_page_files(),
        findings=expand(results.findings("{model}"), model=ANALYSED_MODELS),
        variants=[results.variants(base) for base in VARIANTS],
        class_images=[results.class_images(m, last_page_epoch(m), "png") for m in ANALYSED_MODELS if SECTIONS["maximise"]],
        class_names=[results.class_images(m, last_page_epoch(m), "npz") for m in ANALYSED_MODELS if SECTIONS["maximise"]],
        predictions=[results.predictions(m, last_page_epoch(m)) for m in ANALYSED_MODELS],
        layers=[results.manifest(m, last_page_epoch(m)) for m in ANALYSED_MODELS],
    output:
        index=site_path(layout.index_page()),
        model_pages=[site_path(layout.model_page(model)) for model in ANALYSED_MODELS],
    log:
        "logs/site/site.log",
    benchmark:
        "benchmarks/site/site.tsv",
    params:
        models=ANALYSED_MODELS,
        page_epochs={model: page_epochs(config, model) for model in ANALYSED_MODELS},
        variant_bases=list(VARIANTS),
        sections=SECTIONS,
        datasets={model: config["datasets"][config["models"][model]["dataset"]] for model in ANALYSED_MODELS},
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=MEMORY_MB["site"],
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/site.py"
