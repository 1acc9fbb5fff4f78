"""Replaying a run's job graph: list scheduling by priority, checked by hand on small graphs."""
import pytest

from convatlas.workflow.replay import after_training, log_priorities, replay, replay_many

TRAIN_A, TRAIN_B, PAGES_A = ("train", "a"), ("train", "b"), ("pages", "a")


def test_a_free_core_takes_the_ready_job_of_highest_priority():
    seconds = {TRAIN_A: 10.0, TRAIN_B: 10.0, PAGES_A: 5.0}
    needs = {PAGES_A: {TRAIN_A}}
    # one core, results first: a, then its pages, then b
    times = replay(seconds, needs, lambda job: 1 if job[0] == "pages" else 0, cores=1, tie_order={TRAIN_A: 0, TRAIN_B: 1})
    assert times == {TRAIN_A: (0, 10), PAGES_A: (10, 15), TRAIN_B: (15, 25)}
    assert after_training(times, seconds, ("train",)) == pytest.approx(0 / 20)
    # training first: the pages come last, 5 s after 20 s of training
    times = replay(seconds, needs, lambda job: 1 if job[0] == "train" else 0, cores=1)
    assert times[PAGES_A] == (20, 25) and after_training(times, seconds, ("train",)) == pytest.approx(5 / 20)
    # two cores: both trainings at once, the pages after a
    times = replay(seconds, needs, lambda job: 0, cores=2)
    assert times == {TRAIN_A: (0, 10), TRAIN_B: (0, 10), PAGES_A: (10, 15)}


def test_the_order_of_equal_jobs_and_noise_vary_between_replays():
    seconds = {TRAIN_A: 10.0, TRAIN_B: 10.0, PAGES_A: 5.0}
    runs = replay_many(seconds, {PAGES_A: {TRAIN_A}}, lambda job: 0, 1, ("train",), runs=30, seed=1)
    assert {round(ratio, 3) for _, ratio in runs} == {0.0, 0.25}  # a before b, or b before a
    assert all(wall == pytest.approx(25) for wall, _ in runs)
    noisy = replay_many(seconds, {PAGES_A: {TRAIN_A}}, lambda job: 0, 1, ("train",), runs=30, noise=0.2, seed=1)
    assert all(20 <= wall <= 30 for wall, _ in noisy) and len({wall for wall, _ in noisy}) > 1


def test_a_cycle_is_an_error():
    with pytest.raises(ValueError, match="cycle"):
        replay({TRAIN_A: 1.0, PAGES_A: 1.0}, {TRAIN_A: {PAGES_A}, PAGES_A: {TRAIN_A}}, lambda job: 0, 2)


def test_priorities_are_read_from_the_snakemake_log(tmp_path):
    log = tmp_path / "run.snakemake.log"
    log.write_text(
        "localrule train:\n    output: results/zf/train/log-1.tsv\n    benchmark: benchmarks/train/zf-1.tsv\n"
        "    wildcards: model=zf, epoch=1\n    priority: 4\n    resources: tmpdir=/tmp\nShell command: None\n"
        "[Wed Dec  2 22:32:16 2026]\nlocalrule train:\n    benchmark: benchmarks/train/zf-narrow-2.tsv\n"
        "    resources: tmpdir=/tmp\n[Wed Dec  2 22:32:17 2026]\nrule index:\n    benchmark: benchmarks/index/zf-1.tsv\n"
        "    priority: 8\n\nlocalrule all:\n    input: x\n")
    assert log_priorities(log) == {("train", "zf-1"): 4.0, ("train", "zf-narrow-2"): 0.0, ("index", "zf-1"): 8.0}
