"""Export paths: ``torch.export`` of frozen, plain and windowed models; ONNX when installed.

The inference path the layers document is ``bionn.freeze(model)`` (or ``layer.to_plain()``)
then ``torch.export.export``. Every layer is built with ``scale_init=False``, so the raw weight
is non-zero at masked entries: an export (or a freeze) that lost the window gives a different
output, and the outputs are compared with the unfrozen eager model's.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.export import Dim, ExportedProgram

import bionn
from bionn.layers import WindowedLayer

SHAPE = (2, 4, 5, 5)


def conv_layers() -> list[nn.Module]:
    return [
        bionn.MouseConv2d(4, 6, 3, padding=1, usage=0.5, scale_init=False), nn.ReLU(),
        bionn.MouseConvTranspose2d(6, 4, 4, stride=2, padding=1, usage=0.5, scale_init=False),
        nn.ReLU(),
    ]  # fmt: skip


def make_model() -> nn.Sequential:
    """Every layer type: mouse conv / conv-transpose / linear, band and soft-band linear."""
    return nn.Sequential(
        *conv_layers(),
        nn.Flatten(),
        bionn.SchizoLinear(4 * 10 * 10, 16, usage=0.5, form="diagonal", scale_init=False),
        nn.ReLU(),
        bionn.MouseLinear(16, 8, usage=0.4, scale_init=False),
        nn.ReLU(),
        bionn.SchizoLinear(8, 4, usage=0.5, form="gaussian"),
    ).eval()


def windowed(model: nn.Module) -> dict[str, WindowedLayer]:
    return {name: m for name, m in model.named_modules() if isinstance(m, WindowedLayer)}


def window_users(program: ExportedProgram) -> dict[str, int]:
    """For each window buffer of the program, how many graph nodes read it."""
    placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    return {spec.target: len(placeholders[spec.arg.name].users)
            for spec in program.graph_signature.input_specs
            if spec.target is not None and spec.target.endswith("window")}  # fmt: skip


def test_frozen_model_exports_and_matches_eager() -> None:
    model = make_model()
    x, other = torch.randn(SHAPE), torch.randn(SHAPE)
    with torch.no_grad():
        expected = [model(x), model(other)]  # unfrozen: the window applied in forward
    layers = windowed(model)
    raw = {name: layer.weight.detach().clone() for name, layer in layers.items()}
    assert bionn.freeze(model) == len(layers) == 5
    program = torch.export.export(model, (x,))
    for inputs, reference in zip((x, other), expected, strict=True):
        torch.testing.assert_close(program.module()(inputs), reference)
    for name, layer in layers.items():
        exported = program.state_dict[f"{name}.weight"]
        # the exported weight is the masked one (raw weights were non-zero where masked)
        torch.testing.assert_close(exported, raw[name] * layer.window.to(exported.dtype))
        if layer.is_binary:
            masked = layer.expanded_window() == 0
            assert bool((raw[name][masked] != 0).all()) and bool((exported[masked] == 0).all())
    # frozen layers mask no more: no node of the graph reads a window
    users = window_users(program)
    assert set(users) == {f"{name}.window" for name in layers} and not any(users.values())


def test_frozen_export_with_dynamic_batch_saves_and_loads(tmp_path: Path) -> None:
    model = make_model()
    x = torch.randn(5, *SHAPE[1:])
    with torch.no_grad():
        expected = model(x)
    bionn.freeze(model)
    program = torch.export.export(model, (torch.randn(SHAPE),),
                                  dynamic_shapes=({0: Dim("batch", min=1, max=64)},))  # fmt: skip
    path = tmp_path / "frozen.pt2"
    torch.export.save(program, path)
    loaded = torch.export.load(path)
    torch.testing.assert_close(loaded.module()(x), expected)  # batch 5, exported at batch 2


def test_to_plain_model_exports_and_matches_eager() -> None:
    model = make_model()
    x = torch.randn(SHAPE)
    with torch.no_grad():
        expected = model(x)
    plain = nn.Sequential(*(m.to_plain() if isinstance(m, WindowedLayer) else m for m in model))
    assert not windowed(plain)
    assert [
        type(m) for m in plain if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))
    ] == [nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.Linear, nn.Linear]
    program = torch.export.export(plain, (x,))
    assert not any(key.endswith("window") for key in program.state_dict)
    torch.testing.assert_close(program.module()(x), expected)


def eager_grads(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    model.zero_grad()
    model(x).square().sum().backward()
    return {name: p.grad.clone() for name, p in model.named_parameters()}


def test_unfrozen_conv_layers_export_and_train_through_the_program() -> None:
    model = nn.Sequential(*conv_layers()).eval()
    x, other = torch.randn(SHAPE), torch.randn(SHAPE)
    program = torch.export.export(model, (x,))
    users = window_users(program)
    assert set(users) == {"0.window", "2.window"} and all(users.values())  # masked in the graph
    # the window is exported as the buffer it is, never as a parameter
    assert not any(key.endswith("window") for key in dict(program.named_parameters()))
    module = program.module()
    for inputs in (x, other):
        torch.testing.assert_close(module(inputs), model(inputs))
    # autograd through the exported graph: the eager gradients, zero at masked entries
    expected = eager_grads(model, x)
    module.zero_grad()  # the program's parameters may be the model's own tensors
    module(x).square().sum().backward()
    for name, parameter in module.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name])
    for name in ("0", "2"):
        masked = model.get_submodule(name).expanded_window() == 0
        assert bool(masked.any()) and bool((expected[f"{name}.weight"][masked] == 0).all())


def test_unfrozen_model_exports_and_runs_under_no_grad() -> None:
    """Inference with the windowed (unfrozen) model's program works when autograd is off."""
    model = make_model()
    x, other = torch.randn(SHAPE), torch.randn(SHAPE)
    program = torch.export.export(model, (x,))
    users = window_users(program)
    assert len(users) == 5 and all(users.values())  # every mask is in the exported graph
    with torch.no_grad():
        for inputs in (x, other):
            torch.testing.assert_close(program.module()(inputs), model(inputs))


def test_unfrozen_model_program_runs_with_autograd() -> None:
    model = make_model()
    x = torch.randn(SHAPE)
    program = torch.export.export(model, (x,))
    module = program.module()
    torch.testing.assert_close(module(x), model(x))
    expected = eager_grads(model, x)
    module.zero_grad()  # the program's parameters may be the model's own tensors
    module(x).square().sum().backward()
    for name, parameter in module.named_parameters():
        torch.testing.assert_close(parameter.grad, expected[name])


@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "windowed"])
def test_onnx_export_matches_eager(tmp_path: Path, frozen: bool) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript", reason="torch.onnx.export (dynamo=True) needs onnxscript")
    model = make_model()
    x = torch.randn(SHAPE)
    with torch.no_grad():
        expected = model(x)
    if frozen:
        bionn.freeze(model)
    path = tmp_path / "model.onnx"
    torch.onnx.export(model, (x,), str(path), dynamo=True, external_data=False, verbose=False)
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    if importlib.util.find_spec("onnxruntime") is None:
        return
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    torch.testing.assert_close(torch.from_numpy(output), expected, rtol=1e-4, atol=1e-5)
