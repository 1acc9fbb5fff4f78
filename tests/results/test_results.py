"""The result paths: one function per file, patterns for rules, probe datasets in their own folder."""
from convatlas import results


def test_wildcards_give_the_rule_patterns_and_values_the_files():
    assert results.checkpoint("{model}", "{epoch}") == "results/{model}/checkpoints/epoch-{epoch}.pt"
    assert results.checkpoint("zf", 5) == "results/zf/checkpoints/epoch-5.pt"
    assert results.projections("zf", 5, "features.relu1") == "results/zf/epoch-5/deconv/features.relu1.npz"
    assert results.train_log("zf", 2) == f"{results.train_dir('zf')}/log-2.tsv"


def test_another_probe_dataset_has_the_same_names_in_its_own_folder():
    own = [results.index("m", 1), results.channel_stats("m", 1), results.predictions("m", 1), results.manifest("m", 1),
           results.projections("m", 1, "l"), results.index_shard("m", 1, 0)]
    other = [results.index("m", 1, "photos"), results.channel_stats("m", 1, "photos"), results.predictions("m", 1, "photos"),
             results.manifest("m", 1, "photos"), results.projections("m", 1, "l", "photos"), results.index_shard("m", 1, 0, "photos")]
    for mine, theirs in zip(own, other, strict=True):
        assert theirs == mine.replace("results/m/epoch-1/", "results/m/epoch-1/probe-photos/")


def test_every_result_file_of_a_checkpoint_is_distinct():
    files = [results.index("m", 1), results.channel_stats("m", 1), results.predictions("m", 1), results.manifest("m", 1),
             results.feature_maps("m", 1), results.occlusion("m", 1), results.linear_probes("m", 1),
             results.ablation_experiments("m", 1), results.class_images("m", 1, "png"), results.class_images("m", 1, "npz"),
             *[results.correspondence("m", 1, what) for what in ("table", "pairs", "meta")],
             *[results.invariance("m", 1, what) for what in ("table", "strips")]]
    assert len(set(files)) == len(files) and all(f.startswith(results.epoch_dir("m", 1) + "/") for f in files)
