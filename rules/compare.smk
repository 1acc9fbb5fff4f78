# Stage 5b: linear probes, transfer to new classes, and the page that compares the architectures.


rule probe:
    input:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
    output:
        table="results/{model}/epoch-{epoch}/probe.parquet",
    log:
        "logs/probe/{model}-{epoch}.log",
    params:
        dataset=dataset_config,
        layers=config["analysis"]["layers"],
        settings=config["probe"],
        device=config["device"],
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/probe.py"


rule transfer:
    output:
        table="results/transfer/{model}.parquet",
    log:
        "logs/transfer/{model}.log",
    params:
        model=model_config,
        dataset_name=dataset_name,
        dataset=dataset_config,
        settings=config["transfer"],
        state_dir=transfer_state_dir,
        device=config["device"],
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/transfer.py"


rule compare:
    input:
        summaries=expand("results/{model}/summary.json", model=MODELS),
        stats=[f"results/{m}/epoch-{page_epochs(config, m)[-1]}/channel_stats.parquet" for m in MODELS],
        probes=[f"results/{m}/epoch-{page_epochs(config, m)[-1]}/probe.parquet" for m in MODELS],
        occlusions=[f"results/{m}/epoch-{page_epochs(config, m)[-1]}/occlusion.npz" for m in MODELS],
        transfers=expand("results/transfer/{model}.parquet", model=config["transfer"]["models"]),
        pages=[folder for model in MODELS for folder in layer_page_dirs(model)],
    output:
        page="site/compare.html",
    log:
        "logs/compare/compare.log",
    params:
        models=MODELS,
        epochs={m: page_epochs(config, m)[-1] for m in MODELS},
        transfer_models=config["transfer"]["models"],
        templates=TEMPLATES,
        title=config["site"]["title"],
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/compare.py"
