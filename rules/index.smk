# Stage 2: activation indexing. One streaming pass over the probe split per (model, checkpoint).


rule index:
    input:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
    output:
        index="results/{model}/epoch-{epoch}/index.parquet",
        stats="results/{model}/epoch-{epoch}/channel_stats.parquet",
        predictions="results/{model}/epoch-{epoch}/predictions.parquet",
        layers="results/{model}/epoch-{epoch}/layers.json",
    log:
        "logs/index/{model}-{epoch}.log",
    params:
        dataset=dataset_config,
        layers=config["analysis"]["layers"],
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        batch_size=config["analysis"]["batch_size"],
        device=config["device"],
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index.py"
