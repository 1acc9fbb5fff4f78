# Stage 1: checkpoint training. One job per model; checkpoints are published one file per epoch.


rule train:
    output:
        train_log="results/{model}/train_log.tsv",
    log:
        "logs/train/{model}.log",
    params:
        model=model_config,
        dataset_name=dataset_name,
        dataset=dataset_config,
        device=config["device"],
        eval_batch_size=config["analysis"]["batch_size"],
        state_dir=train_state_dir,
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/train.py"


rule publish_checkpoint:
    input:
        train_log="results/{model}/train_log.tsv",
    output:
        checkpoint="results/{model}/checkpoints/epoch-{epoch}.pt",
    log:
        "logs/publish_checkpoint/{model}-{epoch}.log",
    params:
        stashed=stashed_checkpoint,
    threads: 1
    resources:
        mem_mb=500,
    localrule: True
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/publish_checkpoint.py"


rule layer_ablation:
    input:
        base=variant_base_checkpoint,
        variants=variant_checkpoints,
    output:
        table="results/{model}/variants.parquet",
    log:
        "logs/layer_ablation/{model}.log",
    params:
        variants=variant_names,
        dataset=dataset_config,
        device=config["device"],
    threads: 2
    resources:
        gpu=1,
        mem_mb=4000,
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/layer_ablation.py"
