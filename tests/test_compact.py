"""save_compact / load_compact: exact round trip, size, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

import bionn


def mixed_model(seed: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1),
        nn.BatchNorm2d(32),
        bionn.MouseConv2d(32, 64, 3, padding=1, usage=0.35),
        bionn.SchizoConv2d(64, 64, 3, padding=1, usage=0.5, form="kernel", seed=seed),
        bionn.MouseConvTranspose2d(64, 32, 4, stride=2, padding=1, usage=0.35),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        bionn.SchizoLinear(32, 48, usage=0.5, form="gaussian"),
        bionn.SchizoLinear(48, 48, usage=0.3, form="random", seed=seed),
        bionn.mLinear(48, 16, form="2d", input2d_width=8, output2d_width=4, window2d_width=0.5),
        nn.Linear(16, 10),
    )


def trained(model: nn.Module) -> nn.Module:
    """A few optimizer steps, so weights and BatchNorm statistics are not the initial ones."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(4, 1, 8, 8)).square().mean().backward()
        optimizer.step()
    return model.eval()


def test_round_trip_is_exact(tmp_path: Path) -> None:
    model = trained(mixed_model())
    path = tmp_path / "m.safetensors"
    bionn.save_compact(model, path)
    other = mixed_model()
    bionn.load_compact(path, other)
    for (key, a), (_, b) in zip(
        model.state_dict().items(), other.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), key
    x = torch.randn(3, 1, 8, 8)
    assert torch.equal(other.eval()(x), model(x))


def test_frozen_binary_layers_round_trip(tmp_path: Path) -> None:
    model = trained(mixed_model())
    model[7] = bionn.SchizoLinear(32, 48, usage=0.5)  # a frozen 'gaussian' layer cannot be saved
    expected = model(torch.ones(1, 1, 8, 8))
    bionn.freeze(model)
    bionn.save_compact(model, tmp_path / "m.safetensors")
    other = mixed_model()
    other[7] = bionn.SchizoLinear(32, 48, usage=0.5)
    bionn.freeze(other)
    bionn.load_compact(tmp_path / "m.safetensors", other)
    assert torch.allclose(other.eval()(torch.ones(1, 1, 8, 8)), expected, atol=1e-6)


def test_frozen_gaussian_layer_cannot_be_saved(tmp_path: Path) -> None:
    model = nn.Sequential(bionn.SchizoLinear(32, 32, usage=0.5, form="gaussian"))
    bionn.freeze(model)
    with pytest.raises(ValueError, match="frozen 'gaussian'.*save it before freeze"):
        bionn.save_compact(model, tmp_path / "m.safetensors")


def test_parametrized_windowed_layer_is_a_clear_error(tmp_path: Path) -> None:
    model = nn.Sequential(
        nn.utils.parametrizations.spectral_norm(bionn.MouseLinear(32, 32, usage=0.35))
    )
    with pytest.raises(ValueError, match="parametrized weight .*torch.save"):
        bionn.save_compact(model, tmp_path / "m.safetensors")


@pytest.mark.parametrize("usage", [0.35, 0.5])
def test_file_is_at_most_usage_plus_five_percent_of_plain(tmp_path: Path, usage: float) -> None:
    model = nn.Sequential(
        bionn.MouseConv2d(64, 128, 3, usage=usage),
        bionn.MouseConvTranspose2d(128, 64, 5, usage=usage),
        bionn.MouseLinear(256, 256, usage=usage),
    )
    compact, plain = tmp_path / "compact.safetensors", tmp_path / "plain.safetensors"
    bionn.save_compact(model, compact)
    plain_model = nn.Sequential(*(layer.to_plain() for layer in model))
    save_file(plain_model.state_dict(), plain)
    achieved = bionn.usage_report(model).windowed_total.usage
    assert abs(achieved - usage) < 0.03
    ratio = os.path.getsize(compact) / os.path.getsize(plain)
    assert achieved < ratio <= achieved + 0.05


def test_gaussian_layers_keep_the_full_weight(tmp_path: Path) -> None:
    model = nn.Sequential(bionn.SchizoLinear(128, 128, usage=0.3, form="gaussian"))
    bionn.save_compact(model, tmp_path / "g.safetensors")
    save_file({"0.weight": model[0].weight, "0.bias": model[0].bias}, tmp_path / "p.safetensors")
    ratio = os.path.getsize(tmp_path / "g.safetensors") / os.path.getsize(
        tmp_path / "p.safetensors"
    )
    assert 0.99 < ratio < 1.05


def shared_and_tied() -> nn.Sequential:
    shared = bionn.MouseLinear(32, 32, usage=0.35)
    model = nn.Sequential(nn.Linear(8, 32), shared, shared, nn.Linear(32, 32), nn.Linear(32, 32))
    model[4].weight = model[3].weight
    return model


def test_shared_modules_and_tied_weights(tmp_path: Path) -> None:
    model = trained_linear(shared_and_tied())
    bionn.save_compact(model, tmp_path / "s.safetensors")
    copy = shared_and_tied()
    bionn.load_compact(tmp_path / "s.safetensors", copy)
    assert copy[1] is copy[2] and copy[4].weight is copy[3].weight
    for (key, a), b in zip(model.state_dict().items(), copy.state_dict().values(), strict=True):
        assert torch.equal(a, b), key


def trained_linear(model: nn.Module) -> nn.Module:
    """Random weights; windowed ones masked, as training leaves them."""
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter))
        for layer in model.modules():
            if isinstance(layer, bionn.WindowedLayer):
                layer.weight.mul_(layer.window)
    return model


def test_masked_out_entries_come_back_as_zero(tmp_path: Path) -> None:
    model = nn.Sequential(bionn.MouseLinear(32, 32, usage=0.35))
    with torch.no_grad():
        model[0].weight.add_(1.0)  # entries the window removes: never used in forward
    bionn.save_compact(model, tmp_path / "m.safetensors")
    copy = nn.Sequential(bionn.MouseLinear(32, 32, usage=0.35))
    bionn.load_compact(tmp_path / "m.safetensors", copy)
    assert torch.equal(copy[0].weight, model[0].masked_weight())
    x = torch.randn(4, 32)
    assert torch.equal(copy(x), model(x))


def test_other_window_configuration_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    bionn.save_compact(mixed_model(seed=3), path)
    with pytest.raises(
        ValueError, match=r"layer '3' was saved with another window .*seed=3.*seed=4"
    ):
        bionn.load_compact(path, mixed_model(seed=4))
    other = mixed_model()
    other[2] = bionn.MouseConv2d(32, 64, 3, padding=1, usage=0.5)
    with pytest.raises(ValueError, match=r"layer '2' .*another window configuration \(radius="):
        bionn.load_compact(path, other)


def test_other_model_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    bionn.save_compact(mixed_model(), path)
    plain = mixed_model()
    plain[2] = plain[2].to_plain()
    with pytest.raises(ValueError, match="the model has no windowed layer '2'; .*another model"):
        bionn.load_compact(path, plain)
    bigger = nn.Sequential(*mixed_model(), nn.Linear(10, 10))
    with pytest.raises(ValueError, match="(?s)does not fit this model .*Missing key"):
        bionn.load_compact(path, bigger)
    save_file({"x": torch.zeros(3)}, tmp_path / "plain.safetensors")
    with pytest.raises(ValueError, match="not a bionn compact file"):
        bionn.load_compact(tmp_path / "plain.safetensors", mixed_model())


@pytest.mark.parametrize("keep", [7, 500, -64])
def test_truncated_file_is_a_clear_error(tmp_path: Path, keep: int) -> None:
    path = tmp_path / "m.safetensors"
    bionn.save_compact(mixed_model(), path)
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    with pytest.raises(ValueError, match="not a readable safetensors file .truncated or corrupt"):
        bionn.load_compact(path, mixed_model())


def test_corrupt_data_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    bionn.save_compact(mixed_model(), path)
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(
        ValueError, match="is corrupt or was edited: its metadata and tensors do not match"
    ):
        bionn.load_compact(path, mixed_model())


def test_tied_weights_of_converted_layers_round_trip_once(tmp_path: Path) -> None:
    from safetensors import safe_open

    def tied_model() -> nn.Sequential:
        model = nn.Sequential(
            nn.Linear(8, 32), nn.Linear(32, 32), nn.Linear(32, 32), nn.Linear(32, 4)
        )
        model[2].weight = model[1].weight
        bionn.mousify(model)
        return model

    model = trained_linear(tied_model())
    path = tmp_path / "t.safetensors"
    bionn.save_compact(model, path)
    with safe_open(path, framework="pt") as file:
        assert sorted(k for k in file.keys() if k.endswith("weight_active")) == ["1.weight_active"]
    copy = tied_model()
    bionn.load_compact(path, copy)
    assert copy[1].weight is copy[2].weight and copy[1].window is copy[2].window
    x = torch.randn(3, 8)
    assert torch.equal(copy(x), model(x))


def rewrite(path: Path, edit) -> None:
    """Rewrite a compact file after ``edit(tensors, metadata)``; reseal its checksum if asked."""
    from safetensors import safe_open

    from bionn.compact import _digest

    with safe_open(path, framework="pt") as file:
        metadata = file.metadata()
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    if edit(tensors, metadata) == "reseal":
        metadata["bionn.sha256"] = _digest(tensors, metadata)
    save_file(tensors, path, metadata=metadata)


def edit_layers(tensors: dict, metadata: dict) -> None:
    metadata["bionn.layers"] = metadata["bionn.layers"].replace('"seed": 3', '"seed": 4')


def reinterpret_dtype(tensors: dict, metadata: dict) -> None:
    tensors["1.running_mean"] = tensors["1.running_mean"].view(torch.int32)  # same bytes


def test_edited_metadata_or_header_fails_the_checksum(tmp_path: Path) -> None:
    path = tmp_path / "m.safetensors"
    for edit in (edit_layers, reinterpret_dtype):
        bionn.save_compact(mixed_model(), path)
        rewrite(path, edit)
        with pytest.raises(ValueError, match=f"{path} is corrupt or was edited"):
            bionn.load_compact(path, mixed_model())


def resealed(edit):
    def run(tensors: dict, metadata: dict) -> str:
        edit(tensors, metadata)
        return "reseal"

    return run


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda t, m: m.update({"bionn.layers": "{not json"}),
            "metadata 'bionn.layers' is missing",
        ),
        (lambda t, m: m.pop("bionn.aliases"), "metadata 'bionn.aliases' is missing or not JSON"),
        (lambda t, m: m.update({"bionn.layers": "[1, 2]"}), "'bionn.layers' is not a JSON object"),
        (lambda t, m: m.update({"bionn.layers": '{"2.": 5}'}), "holds a malformed layer entry"),
        (lambda t, m: m.update({"bionn.aliases": '{"x": "y"}'}), "maps 'x' to 'y', which the file"),
        (lambda t, m: t.pop("2.weight_active"), "layer '2' holds no active weights but its window"),
        (lambda t, m: t.update({"extra": torch.zeros(2)}), "does not fit this model.*Unexpected"),
    ],
)
def test_malformed_file_is_a_clear_error(tmp_path: Path, edit, message: str) -> None:
    path = tmp_path / "m.safetensors"
    bionn.save_compact(mixed_model(), path)
    rewrite(path, resealed(edit))  # a valid checksum: the structure itself is checked
    with pytest.raises(ValueError, match=f"(?s){path}.*{message}"):
        bionn.load_compact(path, mixed_model())


def test_directory_missing_file_and_other_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=f"{tmp_path} is a directory, not a bionn compact file"):
        bionn.load_compact(tmp_path, mixed_model())
    with pytest.raises(FileNotFoundError, match="absent.safetensors"):
        bionn.load_compact(tmp_path / "absent.safetensors", mixed_model())
    path = tmp_path / "m.safetensors"
    bionn.save_compact(mixed_model(), path)
    rewrite(path, resealed(lambda t, m: m.update({"bionn.compact": "1"})))
    with pytest.raises(ValueError, match="not a bionn compact file of format '2' .its format: '1'"):
        bionn.load_compact(path, mixed_model())


def test_module_versions_round_trip(tmp_path: Path) -> None:
    """MNASNet's loading reads its state_dict version: the file keeps the module versions."""
    import torchvision

    def converted() -> nn.Module:
        torch.manual_seed(0)
        model = torchvision.models.mnasnet0_5(weights=None)
        bionn.mousify(model)
        return model.eval()

    model = converted()
    bionn.save_compact(model, tmp_path / "m.safetensors")
    copy = converted()
    bionn.load_compact(tmp_path / "m.safetensors", copy)
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(copy(x), model(x))
