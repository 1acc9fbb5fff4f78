# Stage 2, index: one streaming pass over the analysed images per (model, checkpoint), and one per
# other probe dataset of the model (models.<m>.probe) at its page epochs.


rule index:
    input:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
    output:
        index="results/{model}/epoch-{epoch}/index.parquet",
        stats="results/{model}/epoch-{epoch}/channel_stats.parquet",
        predictions="results/{model}/epoch-{epoch}/predictions.parquet",
        layers="results/{model}/epoch-{epoch}/layers.json",
        feature_maps="results/{model}/epoch-{epoch}/feature_maps.npz",
    log:
        "logs/index/{model}-{epoch}.log",
    benchmark:
        "benchmarks/index/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        probe=dataset_name,
        layers=config["analysis"]["layers"],
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        batch_size=config["analysis"]["batch_size"],
        feature_map_images=(config.get("feature_maps") or {}).get("images", 0),
        device=config["device"],
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index.py"


rule probe_index:
    input:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
    output:
        index="results/{model}/epoch-{epoch}/probe-{probe}/index.parquet",
        stats="results/{model}/epoch-{epoch}/probe-{probe}/channel_stats.parquet",
        predictions="results/{model}/epoch-{epoch}/probe-{probe}/predictions.parquet",
        layers="results/{model}/epoch-{epoch}/probe-{probe}/layers.json",
    log:
        "logs/probe_index/{model}-{epoch}-{probe}.log",
    benchmark:
        "benchmarks/probe_index/{model}-{epoch}-{probe}.tsv",
    params:
        dataset=probe_dataset_config,
        probe="{probe}",
        layers=config["analysis"]["layers"],
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        batch_size=config["analysis"]["batch_size"],
        feature_map_images=0,
        device=config["device"],
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index.py"
