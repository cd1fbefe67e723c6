"""plot_window / plot_usage and the `bionn mask` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from torch import nn

import bionn
from bionn.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


def legend_texts(figure) -> list[str]:
    return [t.get_text() for a in figure.axes if a.get_legend() for t in a.get_legend().texts]


def test_import_bionn_imports_no_optional_package() -> None:
    optional = {"matplotlib", "safetensors", "torchvision"}
    loaded = "{m.split('.')[0] for m in sys.modules}"
    code = f"import sys, bionn; print(sorted({loaded} & {optional}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "layer",
    [
        bionn.MouseConv2d(64, 64, 3, usage=0.35),
        bionn.MouseLinear(784, 256, usage=0.35),
        bionn.mConvTranspose2d(
            64, 32, 5, form="2d", input2d_width=8, output2d_width=8, window2d_width=0.4
        ),
    ],
)
def test_2d_window_has_matrix_and_cone(tmp_path: Path, layer) -> None:
    path = tmp_path / "w.png"
    figure = bionn.plot_window(layer, path)
    assert path.read_bytes().startswith(PNG)
    assert len(figure.axes) == 2 and figure.axes[1].name == "3d"
    window = layer.window.flatten(2)[..., 0] if layer.window.dim() > 2 else layer.window
    transposed = isinstance(layer, nn.ConvTranspose2d)
    outputs = window.T if transposed else window  # (outputs, inputs)
    node = 5
    figure = bionn.plot_window(layer, node=node)
    assert f"{int(outputs[node].sum())} connected inputs" in legend_texts(figure)
    assert f"output node {node}" in legend_texts(figure)


@pytest.mark.parametrize(
    "layer",
    [
        bionn.SchizoLinear(64, 64, usage=0.5, form="diagonal"),
        bionn.SchizoLinear(64, 64, usage=0.5, form="gaussian"),
        bionn.SchizoConv2d(32, 32, 3, usage=0.5, form="individual", seed=0),
    ],
)
def test_other_forms_draw_the_matrix(tmp_path: Path, layer) -> None:
    figure = bionn.plot_window(layer, tmp_path / "w.png")
    assert (tmp_path / "w.png").read_bytes().startswith(PNG)
    assert figure.axes[0].get_title().startswith(f"{type(layer).__name__}: form '{layer.form}'")
    image = figure.axes[0].get_images()[0].get_array()
    assert image.shape == tuple(layer.window.shape[:2])
    colourbar = layer.form != "diagonal"  # real-valued or per-weight windows get a scale
    assert len(figure.axes) == 1 + colourbar


def test_plot_window_errors() -> None:
    with pytest.raises(TypeError, match="needs a windowed layer"):
        bionn.plot_window(nn.Linear(4, 4))
    with pytest.raises(ValueError, match=r"node must be an output node in \[0, 64\)"):
        bionn.plot_window(bionn.MouseLinear(32, 64, usage=0.35), node=64)


def test_plot_usage(tmp_path: Path) -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 16, 3),
        bionn.MouseConv2d(16, 32, 3, usage=0.35),
        nn.Flatten(),
        bionn.SchizoLinear(32, 32, usage=0.5),
        nn.Linear(32, 10),
    )
    figure = bionn.plot_usage(model, tmp_path / "u.png")
    assert (tmp_path / "u.png").read_bytes().startswith(PNG)
    bars = figure.axes[0].patches
    widths = [round(b.get_width(), 3) for b in bars]
    assert widths == [100.0, *(round(100 * model[i].usage, 3) for i in (1, 3)), 100.0]
    assert any(t.startswith("windowed layers:") for t in legend_texts(figure))
    empty = bionn.plot_usage(nn.Sequential(nn.ReLU()))
    assert len(empty.axes[0].patches) == 0 and legend_texts(empty) == []


def test_cli_mask_clean_and_seed_style(tmp_path: Path, capsys) -> None:
    out = tmp_path / "mask.png"
    args = [
        "mask",
        "--layer",
        "conv",
        "--in-channels",
        "256",
        "--out-channels",
        "256",
        "--usage",
        "0.35",
    ]
    assert main([*args, "--out-file", str(out)]) == 0
    assert out.read_bytes().startswith(PNG)
    assert "MouseConv2d form='2d', usage=0.34" in capsys.readouterr().out
    seed = [
        "mask",
        "--layer",
        "convt",
        "--in-channels",
        "64",
        "--out-channels",
        "32",
        "--input2d-width",
        "8",
        "--output2d-width",
        "8",
        "--window2d-width",
        "0.4",
        "--out-file",
        str(out),
    ]
    assert main(seed) == 0
    assert "mConvTranspose2d form='2d'" in capsys.readouterr().out
    schizo = [
        "mask",
        "--layer",
        "linear",
        "--in-channels",
        "64",
        "--out-channels",
        "64",
        "--form",
        "random",
        "--usage",
        "0.3",
        "--seed",
        "4",
        "--out-file",
        str(out),
    ]
    assert main(schizo) == 0
    assert "SchizoLinear form='random', usage=0.3" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "give --usage or --radius"),
        (["--usage", "0.3", "--param-reduction", "0.5"], "not both"),
        (["--usage", "1.5"], "usage must be in"),
        (["--radius", "-1"], "radius must be a number > 0"),
        (["--form", "kernel", "--layer", "convt", "--usage", "0.5"], "transposed convs take"),
        (
            ["--form", "diagonal", "--usage", "0.5", "--radius", "0.3"],
            "--radius is the '2d' form's; --form diagonal takes --usage",
        ),
        (
            ["--form", "random", "--layer", "linear", "--usage", "0.5", "--node", "3"],
            "--node picks a node of the '2d' cone picture; --form random",
        ),
        (["--usage", "0.35", "--node", "16"], "node must be an output node in [0, 16), got 16"),
        (["--in-channels", "0", "--usage", "0.35"], "in_channels must be >= 1, got 0"),
        (["--kernel", "0", "--usage", "0.35"], "kernel_size must be >= 1, got 0"),
        (["--input2d-width", "32"], "x_width (input2d_width) must be <= 16 channels"),
        (
            ["--in-channels", "200000", "--out-channels", "200000", "--usage", "0.35"],
            "MouseConv2d: a '2d' window of 200000 x 200000 x 3 x 3 = 360,000,000,000 entries needs",
        ),
        (
            [
                "--layer",
                "linear",
                "--in-channels",
                "2",
                "--out-channels",
                "2",
                "--form",
                "random",
                "--usage",
                "0.05",
                "--seed",
                "0",
            ],
            "SchizoLinear: the 2 x 2 'random' window keeps no weight",
        ),
    ],
)
def test_cli_mask_bad_arguments(tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    args = [
        "mask",
        "--in-channels",
        "16",
        "--out-channels",
        "16",
        "--out-file",
        str(tmp_path / "m.png"),
        *extra,
    ]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("bionn mask: error: ") and err.count("\n") == 1, "one line, no traceback"
    assert message in err
    assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize(
    ("out_file", "reason"),
    [("missing/m.png", "No such file or directory"), (".", "Is a directory")],
)
def test_cli_mask_unwritable_out_file(tmp_path: Path, capsys, out_file: str, reason: str) -> None:
    target = tmp_path / out_file
    args = [
        "mask",
        "--in-channels",
        "16",
        "--out-channels",
        "16",
        "--usage",
        "0.35",
        "--out-file",
        str(target),
    ]
    assert main(args) == 2
    expected = f"bionn mask: error: cannot write --out-file {target}: {reason}\n"
    assert capsys.readouterr().err == expected


def test_cli_mask_warnings_are_one_line(tmp_path: Path, capsys) -> None:
    out = tmp_path / "m.png"
    args = [
        "mask",
        "--layer",
        "linear",
        "--in-channels",
        "2",
        "--out-channels",
        "2",
        "--form",
        "random",
        "--param-reduction",
        "1",
        "--seed",
        "0",
        "--out-file",
        str(out),
    ]
    assert main(args) == 0 and out.read_bytes().startswith(PNG)
    captured = capsys.readouterr()
    assert captured.err == (
        "bionn mask: warning: mLinear: the 2 x 2 'random' window keeps no weight at usage=0 "
        "(param_reduction=1), seed=0; the layer would be dead (its output only its bias): keep "
        "more weights (a larger usage, radius or band) or give the layer more channels\n"
    )
    assert "mLinear form='random', usage=0.0000" in captured.out


def test_cli_mask_form_choices(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["mask", "--in-channels", "16", "--out-channels", "16", "--form", "blob"])
    assert "argument --form: invalid choice: 'blob'" in capsys.readouterr().err


def test_figures_are_headless() -> None:
    figure = bionn.plot_window(bionn.MouseLinear(16, 16, usage=0.5))
    assert type(figure.canvas).__name__ == "FigureCanvasBase"  # no GUI backend involved
