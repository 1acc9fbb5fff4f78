# Stage 8, site: model summaries, the layer and channel pages (one job per model, epoch and layer),
# the feature-map pages, and the index and model pages. Page jobs read tables, arrays and pictures;
# they never run a model.


rule model_summary:
    input:
        checkpoint=final_checkpoint,
        train_log=full_train_log,
    output:
        summary="results/{model}/summary.json",
        curves="results/{model}/plots/curves.png",
        per_class="results/{model}/plots/per_class.png",
    log:
        "logs/model_summary/{model}.log",
    benchmark:
        "benchmarks/model_summary/{model}.tsv",
    params:
        model="{model}",
        layers=analysed_layer_names,
    threads: 1
    resources:
        mem_mb=2000,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/model_summary.py"


rule layer_pages:
    input:
        unpack(probe_layer_inputs),
        unpack(optional_layer_inputs),
        index="results/{model}/epoch-{epoch}/index.parquet",
        stats="results/{model}/epoch-{epoch}/channel_stats.parquet",
        predictions="results/{model}/epoch-{epoch}/predictions.parquet",
        layers="results/{model}/epoch-{epoch}/layers.json",
        projections="results/{model}/epoch-{epoch}/deconv/{layer}.npz",
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
        mem_mb=2000,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/layer_pages.py"


rule feature_maps:
    input:
        maps="results/{model}/epoch-{epoch}/feature_maps.npz",
        layers="results/{model}/epoch-{epoch}/layers.json",
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
        mem_mb=2000,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/feature_maps.py"


rule findings:
    input:
        unpack(findings_inputs),
        summary="results/{model}/summary.json",
        layers=lambda wildcards: results(wildcards.model, last_page_epoch(wildcards.model), "layers.json"),
    output:
        findings="results/{model}/findings.json",
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
        mem_mb=2000,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/findings.py"


rule site:
    input:
        summaries=expand("results/{model}/summary.json", model=ANALYSED_MODELS),
        curves=expand("results/{model}/plots/curves.png", model=ANALYSED_MODELS),
        per_class=expand("results/{model}/plots/per_class.png", model=ANALYSED_MODELS),
        pages=all_page_files(),
        findings=expand("results/{model}/findings.json", model=ANALYSED_MODELS),
        variants=[f"results/{base}/variants.parquet" for base in VARIANTS],
        class_images=[results(m, last_page_epoch(m), "maximise/classes.png") for m in ANALYSED_MODELS if SECTIONS["maximise"]],
        class_names=[results(m, last_page_epoch(m), "maximise/classes.npz") for m in ANALYSED_MODELS if SECTIONS["maximise"]],
        predictions=[results(m, last_page_epoch(m), "predictions.parquet") for m in ANALYSED_MODELS],
        layers=[results(m, last_page_epoch(m), "layers.json") for m in ANALYSED_MODELS],
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
        mem_mb=1000,
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/site.py"
