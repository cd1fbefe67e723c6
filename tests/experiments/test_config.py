"""Config dataclasses: pure validation, published values, resolve, the CLI made from them."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import pytest

from bionn.cli.options import add_config_arguments, config_from_args
from bionn.experiments.config import (
    ClassifierConfig,
    ConfigError,
    DDIMConfig,
    GANConfig,
    config_errors,
    config_from_dict,
    make_config,
    with_published,
)
from bionn.experiments.plan import DataFacts, resolve


def _parse(cls: type, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, cls)
    return parser.parse_args(argv)


def test_published_defaults() -> None:
    gan = make_config("gan")
    assert (gan.image_size, gan.width, gan.batch_size) == (64, 128, 32)
    assert (gan.lr, gan.beta1) == (1e-4, 0.5)
    assert gan.label_noise == 0.05 and gan.radius == 0.4 and not gan.keras_mode
    tutorial = make_config("gan", model="tutorial")
    assert (tutorial.batch_size, tutorial.lr, tutorial.label_noise) == (128, 2e-4, 0.0)
    ddim = make_config("ddim")
    assert (ddim.batch_size, ddim.lr, ddim.ema, ddim.sampling_steps) == (64, 2e-4, 0.999, 20)
    vgg = make_config("classifier", model="vgg16")
    assert (vgg.reduction, vgg.batch_size, vgg.optimizer, vgg.augment) == (0.6, 200, "sgd", True)
    assert make_config("classifier", model="mlp").augment is False


def test_validation_is_pure() -> None:
    raw = config_from_dict("gan", {"variant": "mouse"})
    before = dataclasses.asdict(raw)
    assert raw.validate() == []
    assert dataclasses.asdict(raw) == before  # nothing filled in, nothing changed
    assert raw.epochs is None and raw.batch_size is None  # published values: not yet
    with pytest.raises(dataclasses.FrozenInstanceError):
        raw.epochs = 3  # type: ignore[misc]
    filled = with_published(raw)
    assert filled.epochs == 500 and raw.epochs is None  # a new value, the old one unchanged


def test_each_config_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    original = GANConfig.validate

    def counting(self: GANConfig) -> list[str]:
        calls.append(1)
        return original(self)

    monkeypatch.setattr(GANConfig, "validate", counting)
    config = make_config("gan", variant="mouse", width=None)
    assert len(calls) == 1 and config.width == 128  # None: the published value
    assert with_published(config) is config and len(calls) == 1  # nothing left to fill
    resolve(config, DataFacts(images=10, channels=1, classes=10))
    assert len(calls) == 2  # the plan is a new value (the data's channels): checked once


def test_all_errors_are_returned_at_once() -> None:
    errors = config_errors("ddim", {"usage": 35, "batch_size": 0, "precision": "fp8"})
    assert any(e.startswith("--usage must be in (0, 1]") and "0.35 keeps 35 %" in e for e in errors)
    assert any(e.startswith("--batch-size must be >= 1") for e in errors)
    assert any(e.startswith("--precision must be one of fp32, bf16, fp16") for e in errors)
    assert config_errors("ddim", {"usage": 0.35}) == []
    with pytest.raises(ConfigError) as caught:
        DDIMConfig(usage=35)
    assert caught.value.errors[0].startswith("--usage")


def test_resolve_makes_a_frozen_plan_from_data_facts(tmp_path: Path) -> None:
    config = config_from_dict("classifier", {"model": "cnn", "out": str(tmp_path / "r")})
    plan = resolve(config, DataFacts(images=100, channels=3, classes=7))
    assert plan.config.channels == 3 and plan.config.classes == 7
    assert (plan.config.batch_size, plan.config.optimizer) == (32, "rmsprop")
    assert plan.run_dir == tmp_path / "r" and plan.kind == "classifier"
    assert config.channels is None and config.batch_size is None  # the input is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.config = config  # type: ignore[misc]
    given = resolve(
        make_config("gan", model="cdcgan", classes=12), DataFacts(images=10, channels=1, classes=10)
    )
    assert given.config.classes == 12  # an explicit class count is kept


def test_cli_options_from_fields() -> None:
    args = _parse(
        GANConfig,
        ["--variant", "mouse", "--usage", "0.3", "--keras-mode", "--steps", "5", "--no-progress"],
    )
    config, given = config_from_args("gan", args)
    assert config.variant == "mouse" and config.usage == 0.3 and config.keras_mode
    assert config.steps == 5 and config.progress is False
    assert given == {"variant", "usage", "keras_mode", "steps", "progress"}


def test_cli_choices_groups_and_booleans(capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, ClassifierConfig)
    help_text = parser.format_help()
    for group in (
        "model options",
        "data options",
        "training options",
        "output options",
        "runtime options",
    ):
        assert group in help_text
    assert "{mlp,cnn,vgg16,mouse-mlp,lenet}" in help_text
    assert "{standard,schizo,mouse}" in help_text
    assert "--augment, --no-augment" in help_text
    assert "[BOOL]" not in help_text
    for bad in (["--model", "resnet"], ["--precision", "fp8"], ["--optimizer", "adamw"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)
        assert "invalid choice" in capsys.readouterr().err


def test_variant_choices_follow_the_kind() -> None:
    assert GANConfig.choices("variant") == ("standard", "mouse")
    assert DDIMConfig.choices("precision") == ("fp32", "bf16", "fp16")
    assert DDIMConfig.choices("width") is None


def test_config_file_and_cli_precedence(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"width": 16, "levels": 3, "seed": 4}))
    config, given = config_from_args(
        "ddim", _parse(DDIMConfig, ["--config", str(path), "--seed", "7"])
    )
    assert (config.width, config.levels, config.seed) == (16, 3, 7)
    assert {"width", "levels", "seed"} <= given


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"colour": 3}, "unknown ddim config keys"),
        ({"width": "wide"}, "--width must be int"),
        ({"ema": 1.5}, r"--ema must be in \[0, 1\)"),
        ({"batch_size": 0}, "--batch-size must be >= 1"),
        ({"precision": "fp8"}, "--precision"),
        ({"device": "tpu"}, "--device"),
        ({"device": "cuda:x"}, "--device"),
        ({"channels": 2}, "--channels must be one of 1, 3"),
        ({"levels": 7}, r"--levels must be in \[1, 6\]"),
        ({"lr": float("nan")}, "--lr must be > 0"),
        ({"variant": "schizo"}, "--variant must be one of standard, mouse"),
        ({"attention": 1}, "--attention must be bool"),
    ],
)
def test_bad_values(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        make_config("ddim", **values)


def test_bad_config_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="cannot read config file"):
        config_from_args("gan", _parse(GANConfig, ["--config", str(path)]))


def test_cli_type_errors_exit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        _parse(GANConfig, ["--steps", "many"])
    assert "invalid int value" in capsys.readouterr().err


def test_to_dict_round_trip() -> None:
    config = make_config("classifier", model="lenet", variant="mouse")
    saved = config.to_dict()
    assert saved["kind"] == "classifier"
    again = make_config("classifier", **{k: v for k, v in saved.items() if k != "kind"})
    assert again == config
