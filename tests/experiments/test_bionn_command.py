"""The ``bionn`` program as a whole: --version, python -m, help, one meaning per option name."""

from __future__ import annotations

import argparse
import dataclasses
import subprocess
import sys
from collections.abc import Iterator

import pytest
from _exp_helpers import subprocess_env

import bionn
from bionn.cli import COMMANDS, build_parser, main
from bionn.experiments.config import KINDS

# options several commands share, and the one default each has everywhere
SHARED_DEFAULTS = {
    "--device": "auto",
    "--data-root": "data",
    "--eval-samples": 10_000,
    "--kid-samples": 1000,
    "--metric": "auto",
    "--n-samples": 64,
    "--seeds": "3",
    "--metrics-cache": None,
    "--inception-weights": None,
}


Command = tuple[tuple[str, ...], argparse.ArgumentParser]


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[Command]:
    """Every leaf command parser (``train gan``, ``sample`` ...) with its words."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
    for sub in subs:
        for name, child in sub.choices.items():
            yield from _commands(child, (*path, name))


def _default(command: tuple[str, ...], action: argparse.Action) -> object:
    """The effective default: options made from a config field default to the field's."""
    if action.default is not argparse.SUPPRESS:
        return action.default
    fields = {f.name: f for f in dataclasses.fields(KINDS[command[1]])}
    return fields[action.dest].default


def test_version_and_module_entry_points(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"bionn {bionn.__version__}"
    for module in ("bionn", "bionn.cli"):
        result = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"bionn {bionn.__version__}"


def test_console_script_target_is_main() -> None:
    from pathlib import Path

    import tomllib

    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["bionn"] == "bionn.cli:main"


def test_every_command_has_a_worked_example() -> None:
    leaves = list(_commands(build_parser()))
    assert {path[0] for path, _ in leaves} == set(COMMANDS)
    for path, parser in leaves:
        epilog = parser.epilog or ""
        assert epilog.startswith("Example"), path
        assert f"bionn {path[0]}" in epilog, path


def test_one_default_per_shared_option_name() -> None:
    seen: dict[str, set[object]] = {}
    for path, parser in _commands(build_parser()):
        for action in parser._actions:
            for flag in action.option_strings:
                if flag in SHARED_DEFAULTS:
                    seen.setdefault(flag, set()).add(_default(path, action))
    assert seen == {flag: {default} for flag, default in SHARED_DEFAULTS.items()}


def test_retired_and_ambiguous_option_names_are_gone() -> None:
    for path, parser in _commands(build_parser()):
        flags = {f for a in parser._actions for f in a.option_strings}
        assert not flags & {"--set", "--n", "--out-dir", "--cache-dir-metrics", "--in"}, path
        if path[0] in ("sample", "fid"):  # --steps / --batch-size are training's
            assert not flags & {"--steps", "--batch-size", "--cache-dir"}, path
        if path[0] in ("compare", "sweep"):  # set per run by the study
            assert not flags & {"--variant", "--seed", "--resume"}, path
            assert "--disc-width" in flags or path[1] != "gan"


def test_compare_and_sweep_take_every_training_option() -> None:
    by_command = {path: {a.dest for a in p._actions} for path, p in _commands(build_parser())}
    for kind, cls in KINDS.items():
        training = {f.name for f in dataclasses.fields(cls)} - {"variant", "seed"}
        assert training <= by_command[("train", kind)]
        for study in ("compare", "sweep"):
            assert training <= by_command[(study, kind)], (study, kind)


def test_options_are_grouped_with_choices() -> None:
    parser = dict(_commands(build_parser()))[("train", "ddim")]
    titles = [g.title for g in parser._action_groups if g._group_actions]
    assert {
        "model options",
        "data options",
        "training options",
        "output options",
        "runtime options",
    } <= set(titles)
    precision = next(a for a in parser._actions if a.dest == "precision")
    assert tuple(precision.choices) == ("fp32", "bf16", "fp16")
    attention = next(a for a in parser._actions if a.dest == "attention")
    assert attention.option_strings == ["--attention", "--no-attention"]


def _all_parsers(parser):
    import argparse

    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _all_parsers(child)


def test_no_help_text_quotes_a_measured_timing():
    """Speed-ups depend on the CPU: they live in benchmarks/README.md, never in --help."""
    import re

    from bionn.cli import build_parser

    timing = re.compile(
        r"\d(\.\d+)?x (faster|slower|as fast)|\d(\.\d+)?-\d(\.\d+)?x|img/s|"
        r"images/s|measured"
    )
    parsers = list(_all_parsers(build_parser()))
    assert len(parsers) > 10  # every command and kind
    for parser in parsers:
        text = parser.format_help()
        assert not timing.search(text), (parser.prog, timing.search(text).group(0))
