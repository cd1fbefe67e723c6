"""``benchmarks/original_side.py`` patches the original scripts as its README says."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import original_side  # noqa: E402

SCRIPT = """import mouselayers as mouse
dataset = keras.utils.image_dataset_from_directory(
    "/opt/dlami/nvme/afhq/train/cat", label_mode=None, image_size=(64, 64), batch_size=32)
generator = keras.Sequential([
    mouse.mConv2DTranspose(512, form='2d', input2d_width=32, output2d_width=32, window2d_width=wnd, kernel_size=5, strides=2, padding="same"),
    mouse.mConv2DTranspose(256, form='2d', input2d_width=32, output2d_width=16, window2d_width=wnd, kernel_size=5, strides=2, padding="same"),
    mouse.mConv2DTranspose(128, form='2d', input2d_width=16, output2d_width=16, window2d_width=wnd, kernel_size=5, strides=2, padding="same"),
])
gan.compile()

gan.fit(
    dataset, epochs=epochs)
checkpoint.save(file_prefix = checkpoint_prefix)
"""  # noqa: E501  (the original's own lines)


@pytest.fixture
def scripts(tmp_path: Path) -> Path:
    (tmp_path / original_side.SCRIPTS["gan"]).write_text(SCRIPT)
    return tmp_path


def test_mouse_script_runs_as_is_up_to_fit(scripts: Path) -> None:
    source = original_side.patched_source("gan", "mouse", scripts, Path("/data/x"))
    assert "'/data/x'" in source and "/opt/dlami" not in source
    assert source.count("mouse.mConv2DTranspose(") == 3
    assert "gan.fit(" not in source and "checkpoint.save" not in source
    assert source.rstrip().endswith("gan.compile()")


def test_standard_dcgan_uses_plain_transposed_convs(scripts: Path) -> None:
    source = original_side.patched_source("gan", "standard", scripts, Path("/data/x"))
    assert "mConv2DTranspose" not in source
    assert 'layers.Conv2DTranspose(256, kernel_size=5, strides=2, padding="same")' in source


def test_a_script_without_fit_is_an_error(tmp_path: Path) -> None:
    (tmp_path / original_side.SCRIPTS["ddim"]).write_text("model = 1\n")
    with pytest.raises(SystemExit, match="no 'model.fit\\(' call"):
        original_side.patched_source("ddim", "mouse", tmp_path, Path("/data/x"))
