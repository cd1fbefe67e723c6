"""Config dataclasses and the CLI generated from them."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from bionn.experiments.config import (
    ConfigError,
    DDIMConfig,
    GANConfig,
    add_config_arguments,
    config_from_args,
    make_config,
)


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


def test_cli_options_from_fields(tmp_path: Path) -> None:
    args = _parse(GANConfig, ["--variant", "mouse", "--usage", "0.3", "--keras-mode",
                              "--steps", "5", "--no-progress"])
    config, given = config_from_args("gan", args)
    assert config.variant == "mouse" and config.usage == 0.3 and config.keras_mode
    assert config.steps == 5 and config.progress is False
    assert given == {"variant", "usage", "keras_mode", "steps", "progress"}


def test_config_file_and_cli_precedence(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"width": 16, "levels": 3, "seed": 4}))
    config, given = config_from_args("ddim", _parse(DDIMConfig, ["--config", str(path),
                                                                  "--seed", "7"]))
    assert (config.width, config.levels, config.seed) == (16, 3, 7)
    assert {"width", "levels", "seed"} <= given


@pytest.mark.parametrize(("values", "message"), [
    ({"colour": 3}, "unknown ddim config keys"),
    ({"width": "wide"}, "width must be int"),
    ({"ema": 1.5}, "--ema and --dropout"),
    ({"batch_size": 0}, "--batch-size must be >= 1"),
    ({"precision": "fp8"}, "--precision"),
    ({"device": "tpu"}, "--device"),
    ({"channels": 2}, "--channels must be 1 or 3"),
])
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
