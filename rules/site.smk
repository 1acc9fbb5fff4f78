# Stage 7: the site. Summaries per model, then the pages that read them.


rule model_summary:
    input:
        checkpoint=final_checkpoint,
        train_log="results/{model}/train_log.tsv",
    output:
        summary="results/{model}/summary.json",
        curves="results/{model}/plots/curves.png",
        per_class="results/{model}/plots/per_class.png",
    log:
        "logs/model_summary/{model}.log",
    params:
        layers=config["analysis"]["layers"],
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/model_summary.py"


rule site:
    input:
        summaries=expand("results/{model}/summary.json", model=MODELS),
        curves=expand("results/{model}/plots/curves.png", model=MODELS),
        per_class=expand("results/{model}/plots/per_class.png", model=MODELS),
        layer_pages=[folder for model in MODELS for folder in layer_page_dirs(model)],
        variants=[f"results/{base}/variants.parquet" for base in VARIANTS],
        class_images=[f"results/{m}/epoch-{page_epochs(config, m)[-1]}/maximise/classes.png" for m in MODELS],
    output:
        index="site/index.html",
        model_pages=expand("site/models/{model}/index.html", model=MODELS),
    log:
        "logs/site/site.log",
    params:
        models=MODELS,
        page_epochs={model: page_epochs(config, model) for model in MODELS},
        variant_bases=list(VARIANTS),
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/site.py"
