# Stage 1, train: one job per model (and per variant); checkpoints are published one file per epoch.


rule train:
    output:
        train_log="results/{model}/train_log.tsv",
    log:
        "logs/train/{model}.log",
    benchmark:
        "benchmarks/train/{model}.tsv",
    params:
        model_name="{model}",
        model=model_config,
        dataset_name=dataset_name,
        dataset=dataset_config,
        device=config["device"],
        eval_batch_size=config["analysis"]["batch_size"],
        state_dir=train_state_dir,
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
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
    benchmark:
        "benchmarks/publish_checkpoint/{model}-{epoch}.tsv",
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
