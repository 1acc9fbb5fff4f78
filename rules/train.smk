# Stage 1, train: one job per model (and per variant) and checkpoint epoch, each resuming where the
# previous one stopped, so a checkpoint's analyses start while the later epochs train; checkpoints
# are published one file per epoch.


rule train:
    input:
        previous=previous_training_segment,
    output:
        train_log=results.train_log("{model}", "{epoch}"),
    log:
        "logs/train/{model}-{epoch}.log",
    benchmark:
        "benchmarks/train/{model}-{epoch}.tsv",
    params:
        model_name="{model}",
        until="{epoch}",
        model=model_config,
        dataset_name=dataset_name,
        dataset=dataset_config,
        device=config["device"],
        eval_batch_size=job_batch("index"),
        state_dir=train_state_dir,
        tracked=model_tracking,
    threads: TRAINING_THREADS
    resources:
        gpu=GPU,
        mem_mb=training_memory,
    priority: training_priority
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/train.py"


rule publish_checkpoint:
    input:
        train_log=results.train_log("{model}", "{epoch}"),
    output:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    log:
        "logs/publish_checkpoint/{model}-{epoch}.log",
    benchmark:
        "benchmarks/publish_checkpoint/{model}-{epoch}.tsv",
    params:
        stashed=stashed_checkpoint,
    threads: 1
    resources:
        mem_mb=MEMORY_MB["publish"],
    priority: RESULTS_FIRST
    localrule: True
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/publish_checkpoint.py"
