# Stage 2, index: one streaming pass over the analysed images per (model, checkpoint), and one per
# other probe dataset of the model (models.<m>.probe) at its page epochs. With analysis.shards > 1
# the pass is split into shard jobs (contiguous ranges of images) that the index job merges exactly.


rule index:
    input:
        unpack(index_inputs),
    output:
        index=results.index("{model}", "{epoch}"),
        stats=results.channel_stats("{model}", "{epoch}"),
        predictions=results.predictions("{model}", "{epoch}"),
        layers=results.manifest("{model}", "{epoch}"),
        levels=results.levels("{model}", "{epoch}"),
        facets=results.facets("{model}", "{epoch}"),
        feature_maps=results.feature_maps("{model}", "{epoch}"),
    log:
        "logs/index/{model}-{epoch}.log",
    benchmark:
        "benchmarks/index/{model}-{epoch}.tsv",
    params:
        dataset=dataset_config,
        probe=dataset_name,
        layers=analysed_layer_names,
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        facet_examples=facet_examples,
        batch_size=job_batch("index"),
        feature_map_images=(config.get("feature_maps") or {}).get("images", 0),
        device=config["device"],
    threads: 1 if INDEX_SHARDS > 1 else CRITICAL_THREADS
    resources:
        gpu=0 if INDEX_SHARDS > 1 else GPU,  # sharded: the shard jobs do the pass, this one merges
        mem_mb=job_memory("index"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index.py"


rule probe_index:
    input:
        unpack(probe_index_inputs),
    output:
        index=results.index("{model}", "{epoch}", "{probe}"),
        stats=results.channel_stats("{model}", "{epoch}", "{probe}"),
        predictions=results.predictions("{model}", "{epoch}", "{probe}"),
        layers=results.manifest("{model}", "{epoch}", "{probe}"),
    log:
        "logs/probe_index/{model}-{epoch}-{probe}.log",
    benchmark:
        "benchmarks/probe_index/{model}-{epoch}-{probe}.tsv",
    params:
        dataset=probe_dataset_config,
        probe="{probe}",
        tracked=probe_tracking,
        layers=analysed_layer_names,
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        facet_examples=facet_examples,
        batch_size=job_batch("index"),
        feature_map_images=0,
        device=config["device"],
    threads: 1 if INDEX_SHARDS > 1 else CRITICAL_THREADS
    resources:
        gpu=0 if INDEX_SHARDS > 1 else GPU,  # sharded: the shard jobs do the pass, this one merges
        mem_mb=job_memory("index"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index.py"


rule index_shard:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        state=results.index_shard("{model}", "{epoch}", "{shard}"),
    log:
        "logs/index_shard/{model}-{epoch}-{shard}.log",
    benchmark:
        "benchmarks/index_shard/{model}-{epoch}-{shard}.tsv",
    params:
        dataset=dataset_config,
        probe=dataset_name,
        layers=analysed_layer_names,
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        facet_examples=facet_examples,
        batch_size=job_batch("index"),
        shard="{shard}",
        shards=INDEX_SHARDS,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("index"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index_shard.py"


rule probe_index_shard:
    input:
        checkpoint=results.checkpoint("{model}", "{epoch}"),
    output:
        state=results.index_shard("{model}", "{epoch}", "{shard}", "{probe}"),
    log:
        "logs/probe_index_shard/{model}-{epoch}-{probe}-{shard}.log",
    benchmark:
        "benchmarks/probe_index_shard/{model}-{epoch}-{probe}-{shard}.tsv",
    params:
        dataset=probe_dataset_config,
        probe="{probe}",
        tracked=probe_tracking,
        layers=analysed_layer_names,
        top_k=config["analysis"]["top_k"],
        ranking=config["analysis"]["ranking"],
        facet_examples=facet_examples,
        batch_size=job_batch("index"),
        shard="{shard}",
        shards=INDEX_SHARDS,
        device=config["device"],
    threads: HEAVY_THREADS
    resources:
        gpu=GPU,
        mem_mb=job_memory("index"),
    priority: RESULTS_FIRST
    conda:
        "../envs/convatlas.yaml"
    script:
        "../scripts/index_shard.py"
