# Stage 2b: the layer and channel atlas. One job per (model, epoch, layer) renders every channel.


rule layer_pages:
    input:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
        index="results/{model}/epoch-{epoch}/index.parquet",
        stats="results/{model}/epoch-{epoch}/channel_stats.parquet",
        predictions="results/{model}/epoch-{epoch}/predictions.parquet",
        layers="results/{model}/epoch-{epoch}/layers.json",
        projections="results/{model}/epoch-{epoch}/deconv/{layer}.npz",
        evolution=layer_projections_all_epochs,
        ablation="results/{model}/epoch-{epoch}/ablation/{layer}.parquet",
        maximise="results/{model}/epoch-{epoch}/maximise/{layer}.npz",
    output:
        pages=directory("site/models/{model}/epoch-{epoch}/{layer}"),
    log:
        "logs/layer_pages/{model}-{epoch}-{layer}.log",
    params:
        dataset=dataset_config,
        dataset_name=dataset_name,
        layer_names=layer_names,
        page_epochs=model_page_epochs,
        evolution_epochs=model_epochs,
        overview_channels=config["deconv"]["overview_channels"],
        evolution_channels=config["deconv"]["evolution_channels"],
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/layer_pages.py"
