"""`tune_experiment`: Optuna over a validation carve-out, the config as given first, the best
config written as YAML that `train --config` reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tfrs_mtl.experiments import ExperimentConfig
from tfrs_mtl.experiments.tuning import search_space, tune_experiment


def _small(ml100k_dir: Path) -> ExperimentConfig:
    return ExperimentConfig(data_dir=str(ml100k_dir), max_rows=2_000, epochs=1, baselines=())


def _train_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Trials train no model: each runs its epoch callbacks once, on a stand-in model whose
    every epoch scores 0 (for tests that fake `_trial_value`, so a trial's value is what the
    test says and the search's bookkeeping is what is tested)."""
    from types import SimpleNamespace

    from tfrs_mtl.experiments import tuning

    def train(config, data, positions, *, progress=True, callbacks=()):  # type: ignore[no-untyped-def]
        model = SimpleNamespace(stop_training=False)
        for callback in callbacks:
            callback.set_model(model)
            callback.set_params({"epochs": config.epochs})
            callback.on_epoch_end(0)
        return SimpleNamespace(model=model, history={}, seconds=0.0)

    monkeypatch.setattr(tuning, "_held_out_ndcg", lambda *args: lambda model: 0.0)
    monkeypatch.setattr(tuning, "train_model", train)


def test_a_tiny_tuning_run_writes_its_best_config_and_report(ml100k_dir, tmp_path) -> None:
    config = _small(ml100k_dir)
    result = tune_experiment(config, 600, tmp_path / "tune", max_trials=2, progress=False)
    assert [trial["number"] for trial in result.trials] == [0, 1]
    assert result.default_value == result.trials[0]["value"]
    # Trial 1 and the config as given are trained again on a second carve-out; the one
    # scoring best there is chosen, the config as given on a tie.
    assert [found["number"] for found in result.confirmation] == [0, 1]
    assert [found["value"] for found in result.confirmation] == [
        trial["value"] for trial in result.trials
    ]
    second = {found["number"]: found["confirmed"] for found in result.confirmation}
    assert result.chosen_trial == (1 if second[1] > second[0] else 0)
    assert result.best_value == result.trials[result.chosen_trial]["value"]
    written = ExperimentConfig.load(tmp_path / "tune" / "best_config.yaml")
    assert written == result.best_config
    assert written.dataset == config.dataset and written.max_rows == config.max_rows
    if result.chosen_trial == 1:  # its knobs are in the config
        assert written.epochs == result.trials[1]["epochs"]
        assert written.learning_rate == pytest.approx(result.trials[1]["learning_rate"])
    else:
        assert written == config
    report = (tmp_path / "tune" / "tuning.md").read_text()
    assert "trial 0 is the config as given" in report
    assert "second carve-out" in report
    assert (tmp_path / "tune" / "tuning_history.png").stat().st_size > 0
    assert (tmp_path / "tune" / "trials.csv").read_text().startswith("number,state,value")


@pytest.mark.parametrize("searched_wins", [False, True])
def test_the_given_config_stays_unless_a_searched_trial_wins_on_both_carve_outs(
    ml100k_dir, monkeypatch, searched_wins: bool
) -> None:
    from tfrs_mtl.experiments import tuning

    confirmed: list[list[int]] = []

    def fake_confirm(base, trials, space, data, train_positions, fraction, log):  # type: ignore[no-untyped-def]
        confirmed.append([trial.number for trial in trials])
        winner = trials[-1].number if searched_wins else 0
        return [
            {
                "number": trial.number,
                "value": trial.value,
                "confirmed": 0.5 if trial.number == winner else 0.4,
                "seconds": 0.0,
            }
            for trial in trials
        ]

    # A trial's value on the search's carve-out: its learning rate.
    _train_nothing(monkeypatch)
    monkeypatch.setattr(tuning, "_trial_value", lambda model, config, *rest: config.learning_rate)
    monkeypatch.setattr(tuning, "_confirm", fake_confirm)
    config = _small(ml100k_dir).replace(item_item_weight=0.5)
    result = tune_experiment(config, 600, max_trials=6, progress=False)
    completed = [t for t in result.trials if t["state"] == "complete"]
    better = sorted(
        (t for t in completed if t["value"] > config.learning_rate), key=lambda t: -t["value"]
    )
    assert better and len(completed) > len(better) + 1  # some trials lost to the given one
    # The config as given first, then the best trials that beat it, best first.
    assert confirmed == [[0, *(t["number"] for t in better[: tuning.CONFIRMED_TRIALS])]]
    if searched_wins:
        trial = result.trials[confirmed[0][-1]]
        assert result.chosen_trial == trial["number"]
        assert result.best_value == trial["value"] > result.default_value
        assert result.best_config.learning_rate == pytest.approx(trial["learning_rate"])
        assert result.best_config.epochs == trial["epochs"]
    else:
        # Whatever the search found on its own carve-out, the given config is kept.
        assert result.chosen_trial == 0 and result.best_config == config
        assert result.best_value == result.default_value


def test_no_confirmation_when_no_searched_trial_beats_the_given_config(
    ml100k_dir, monkeypatch
) -> None:
    from tfrs_mtl.experiments import tuning

    given = _small(ml100k_dir).replace(item_item_weight=0.5)
    _train_nothing(monkeypatch)
    monkeypatch.setattr(
        tuning,
        "_trial_value",
        lambda model, config, *rest: 0.3 if config.learning_rate == given.learning_rate else 0.2,
    )
    monkeypatch.setattr(tuning, "_confirm", lambda *args: pytest.fail("nothing to confirm"))
    result = tune_experiment(given, 600, max_trials=3, progress=False)
    assert result.confirmation == [] and result.chosen_trial == 0
    assert result.best_config == given and result.best_value == 0.3


def test_the_second_carve_out_holds_out_other_rows(ml100k_dir) -> None:
    from tfrs_mtl.experiments import tuning
    from tfrs_mtl.experiments.experiment_data import (
        load_experiment_data,
        split_experiment_data,
        validation_carve_out,
    )

    config = _small(ml100k_dir)
    data = load_experiment_data(config)
    train, _ = split_experiment_data(data, config.split)
    first = validation_carve_out(data, train, config.split, 0.2, config.seed)[1]
    second = validation_carve_out(data, train, config.split, 0.2, config.seed + 1)[1]
    assert 0 < len(set(first) & set(second)) < 0.5 * len(first)
    lines: list[str] = []
    trial0 = type("Trial", (), {"number": 0, "value": 0.1, "params": {}, "user_attrs": {}})()
    found = tuning._confirm(
        config.replace(baselines=()), [trial0], {}, data, train, 0.2, lines.append
    )
    assert [f["number"] for f in found] == [0] and 0 <= found[0]["confirmed"] <= 1
    assert f"{len(second):,} score" in lines[0]


def test_a_trial_is_valued_at_the_item_item_weight_a_run_would_fit(ml100k_dir, monkeypatch) -> None:
    from tfrs_mtl.experiments import tuning
    from tfrs_mtl.experiments.item_item_fitting import ItemItemFit

    fitted: list[object] = []

    def fake_fit(model, data, fit_positions, held_out):  # type: ignore[no-untyped-def]
        fitted.append(model.item_item)
        return ItemItemFit(2.0, {0.0: 0.1, 2.0: 0.987})

    monkeypatch.setattr(tuning, "fit_item_item_weight", fake_fit)
    config = _small(ml100k_dir)
    assert config.fits_item_item_weight
    result = tune_experiment(config, 600, max_trials=1, progress=False)
    assert result.trials[0]["value"] == 0.987 and len(fitted) == 1 and fitted[0] is not None
    # A config that fixes the weight is valued at its own last epoch's score.
    fixed = tune_experiment(config.replace(item_item_weight=0.5), 600, max_trials=1, progress=False)
    assert fixed.trials[0]["value"] != 0.987 and len(fitted) == 1


def test_the_search_space_follows_the_data(ml100k_dir) -> None:
    from tfrs_mtl.experiments.experiment_data import load_experiment_data

    movielens = _small(ml100k_dir)
    space = search_space(movielens, load_experiment_data(movielens))
    assert {"retrieval_temperature", "learning_rate", "epochs", "task_weights"} <= set(space)
    # The item-item weight the default leaves to each run's carve-out is not searched; one
    # the config fixes, or one the towers train around, is.
    assert "history_dropout" in space and "item_item_weight" not in space
    for fixed in ({"item_item_weight": 0.5}, {"item_item_train_weight": None}):
        configured = movielens.replace(**fixed)
        assert "item_item_weight" in search_space(configured, load_experiment_data(configured))
    shop = ExperimentConfig(
        dataset="synthetic-ecommerce",
        synthetic_num_users=50,
        synthetic_num_items=30,
        synthetic_num_events=500,
        baselines=(),
    )
    # The shop's query tower reads the clicked items: their knobs are searched too ...
    shop = shop.replace(item_item_weight=0.5)
    space = search_space(shop, load_experiment_data(shop))
    assert {"history_dropout", "item_item_weight"} <= set(space)
    # ... and without a history they are not.
    no_history = shop.replace(user_history_length=0, item_item_weight=None)
    space = search_space(no_history, load_experiment_data(no_history))
    assert "item_item_weight" not in space and "history_dropout" not in space


def test_the_search_refines_the_given_config(ml100k_dir) -> None:
    import optuna

    from tfrs_mtl.experiments.experiment_data import load_experiment_data

    config = _small(ml100k_dir).replace(
        learning_rate=0.004,
        retrieval_temperature=0.2,
        epochs=4,
        user_id_dropout=0.1,
        item_item_weight=0.5,
    )
    data = load_experiment_data(config)
    item_item = config.item_item_weight_for(data.num_items)
    assert item_item > 0
    weights = {t.name: t.weight for t in config.model_config().tasks if t.kind != "retrieval"}
    space = search_space(config, data)
    off = search_space(config.replace(item_item_weight=0.0), data)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_off = []
    for _ in range(40):
        trial = study.ask()
        knobs = {name: draw(trial) for name, draw in space.items()}
        assert 0.004 / 3 <= knobs["learning_rate"] <= 0.004 * 3
        assert 0.2 / 3 <= knobs["retrieval_temperature"] <= 0.2 * 3
        assert 2 <= knobs["epochs"] <= 8
        assert 0.0 <= knobs["user_id_dropout"] <= 0.1 + 0.3
        assert 0.0 <= knobs["history_dropout"] <= 0.3
        assert knobs["embedding_dim"] in (32, 64, 128)
        assert item_item / 3 <= knobs["item_item_weight"] <= item_item * 3
        for name, weight in knobs["task_weights"].items():
            assert weights[name] / 3 <= weight <= weights[name] * 3
        study.tell(trial, 0.0)
        # A part the config leaves off is searched over its whole range.
        trial = study.ask()
        seen_off.append(off["item_item_weight"](trial))
        study.tell(trial, 0.0)
    assert min(seen_off) < 0.5 and max(seen_off) > 3.0


def test_budgets_read_as_durations() -> None:
    from tfrs_mtl.experiments.tuning import parse_budget

    assert parse_budget("20m") == 1200.0
    assert parse_budget("90s") == 90.0
    assert parse_budget("1.5h") == 5400.0
    assert parse_budget("45") == 45.0
    for bad in ("", "m", "-5m", "0", "inf", "10d", "x" * 100):
        with pytest.raises(ValueError, match="expected a positive duration"):
            parse_budget(bad)


def test_a_budget_must_be_positive(ml100k_dir) -> None:
    with pytest.raises(ValueError, match="budget_seconds"):
        tune_experiment(_small(ml100k_dir), 0)


def test_the_tune_command_writes_a_config_train_reads(ml100k_dir, tmp_path) -> None:
    from click.testing import CliRunner

    from tfrs_mtl.cli import main

    out = tmp_path / "tune"
    args = ["--data-dir", str(ml100k_dir), "--max-rows", "2000", "--epochs", "1"]
    result = CliRunner().invoke(
        main, ["tune", *args, "--budget", "10m", "--max-trials", "2", "--out", str(out), "-q"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == str(out / "best_config.yaml")
    config = ExperimentConfig.load(out / "best_config.yaml")
    assert config.max_rows == 2000
    bad = CliRunner().invoke(main, ["tune", *args, "--budget", "soon", "--out", str(out)])
    assert bad.exit_code != 0
    assert "--budget: budget 'soon': expected a positive duration" in bad.output


@pytest.mark.slow
def test_train_tune_trains_the_best_config_and_keeps_the_search_report(
    ml100k_dir, tmp_path
) -> None:
    from click.testing import CliRunner

    from tfrs_mtl.cli import main

    out = tmp_path / "run"
    result = CliRunner().invoke(
        main,
        [
            "train",
            "--data-dir",
            str(ml100k_dir),
            "--max-rows",
            "2000",
            "--epochs",
            "1",
            "--baselines",
            "none",
            "--tune",
            "40s",
            "--out",
            str(out),
            "-q",
        ],
    )
    assert result.exit_code == 0, result.output
    best = ExperimentConfig.load(out / "tuning" / "best_config.yaml")
    assert ExperimentConfig.load(out / "experiment.yaml") == best
    assert (out / "metrics.json").is_file()


class _Trial:
    def __init__(self, prune: bool) -> None:
        self.prune = prune
        self.reported: list[tuple[float, int]] = []

    def report(self, value: float, step: int) -> None:
        self.reported.append((value, step))

    def should_prune(self) -> bool:
        return self.prune


class _Model:
    stop_training = False


@pytest.mark.parametrize(
    ("prune", "deadline_passed", "epoch", "state"),
    [
        (True, False, 0, "pruned"),
        (False, True, 0, "cut"),  # past the deadline before its last epoch
        (False, True, 2, "complete"),  # past it at its last epoch: it ran every epoch
        (False, False, 0, "complete"),
    ],
)
def test_a_trial_the_deadline_cuts_is_told_from_a_pruned_one(
    prune: bool, deadline_passed: bool, epoch: int, state: str
) -> None:
    import time

    from tfrs_mtl.experiments.tuning import _EpochScores

    deadline = time.monotonic() + (-1.0 if deadline_passed else 3600.0)
    scores = _EpochScores(lambda model: 0.25, _Trial(prune), deadline)
    scores.set_params({"epochs": 3})
    model = _Model()
    scores.set_model(model)  # type: ignore[arg-type]
    scores.on_epoch_end(epoch)
    assert scores.scores == [0.25]
    assert (scores.pruned, scores.cut) == (state == "pruned", state == "cut")
    assert model.stop_training == (state != "complete")
