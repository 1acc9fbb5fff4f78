# Stage 3b: feature-map pages for a few probe images, one job per (model, epoch with pages).


rule feature_maps:
    input:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
    output:
        pages=directory("site/models/{model}/epoch-{epoch}/feature-maps"),
    log:
        "logs/feature_maps/{model}-{epoch}.log",
    params:
        dataset=dataset_config,
        dataset_name=dataset_name,
        images=config["feature_maps"]["images"],
        layers=config["analysis"]["layers"],
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/feature_maps.py"
