"""The order ready jobs start in: results before training, models with more analysed layers first."""


def test_results_go_before_training_and_models_with_more_layers_train_first():
    from convatlas.workflow.scheduling import results_priority, training_priorities

    training = training_priorities(["resnet", "zf", "zf-narrow"], {"zf": ["a", "b"], "resnet": ["a", "b", "c"]})
    assert training == {"resnet": 3, "zf": 2, "zf-narrow": 0}
    assert results_priority(training) == 4 > max(training.values())
    assert results_priority({}) == 1
