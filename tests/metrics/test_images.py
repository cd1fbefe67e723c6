import os
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bionn.data import DataError
from bionn.metrics.images import load_dataset, load_folder


def test_named_datasets(data_root) -> None:
    images, labels = load_dataset("mnist", data_root, train=False)
    assert images.shape == (2000, 1, 28, 28) and images.dtype == torch.uint8
    assert len(labels) == 2000
    small, _ = load_dataset("fashion-mnist", data_root, train=False, size=16)
    assert small.shape[-2:] == (16, 16)


def test_embedded_digits_need_no_data_root() -> None:
    digits, _ = load_dataset("digits", size=32)
    assert digits.shape[1:] == (1, 32, 32)


def test_named_dataset_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown data set"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="not found"):
        load_dataset("mnist", tmp_path)


def test_folder_streams_any_sizes_and_modes_at_one_size(tmp_path) -> None:
    for i in range(3):
        Image.fromarray(np.full((8, 8), i * 40, np.uint8)).save(tmp_path / f"{i}.png")
    (tmp_path / "sub").mkdir()
    Image.fromarray(np.full((9, 18, 3), 200, np.uint8)).save(tmp_path / "sub" / "wide.jpg")
    grey = load_folder(tmp_path, size=8, channels=1)
    assert len(grey) == 4 and grey.size == 8
    batches = list(grey.batches(3))
    assert [tuple(b.shape) for b in batches] == [(3, 1, 8, 8), (1, 1, 8, 8)]
    assert int(batches[0][2, 0, 0, 0]) == 80 and batches[0].dtype == torch.uint8
    rgb = torch.cat(list(load_folder(tmp_path, size=4, channels=3).batches(10)))  # sub/ last
    assert rgb.shape == (4, 3, 4, 4) and abs(int(rgb[3, :, 0, 0].float().mean()) - 200) <= 2
    assert load_folder(tmp_path).size == 8  # default: the first image's shorter side
    assert len(load_folder(tmp_path, limit=2)) == 2


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc (Linux)")
def test_folder_keeps_no_file_open(tmp_path) -> None:
    for i in range(60):
        Image.fromarray(np.full((6, 6), i, np.uint8)).save(tmp_path / f"{i:02d}.png")
    before = len(os.listdir("/proc/self/fd"))
    for batch in load_folder(tmp_path, size=6, channels=1).batches(25):
        assert len(os.listdir("/proc/self/fd")) == before  # nothing left open between batches
        assert batch.shape[1:] == (1, 6, 6)


def test_folder_errors_name_the_folder_or_file(tmp_path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no images"):
        load_folder(tmp_path / "empty")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "good.png")
    (tmp_path / "bad.png").write_bytes(b"not a png at all")
    images = load_folder(tmp_path, size=8)  # listing and sizing read only the first file
    with pytest.raises(DataError, match=r"cannot read image .*bad\.png"):
        list(images.batches(2))
