import numpy as np
import pytest
import torch
from PIL import Image

from bionn.metrics.images import load_dataset, load_folder


def test_named_datasets(data_root) -> None:
    images, labels = load_dataset("mnist", data_root, train=False)
    assert images.shape == (2000, 1, 28, 28) and images.dtype == torch.uint8
    assert len(labels) == 2000
    small, _ = load_dataset("fashion-mnist", data_root, train=False, size=16)
    assert small.shape[-2:] == (16, 16)
    digits, _ = load_dataset("digits", size=32)
    assert digits.shape[1:] == (1, 32, 32)


def test_named_dataset_errors(tmp_path) -> None:
    with pytest.raises(ValueError, match="unknown data set"):
        load_dataset("imagenet")
    with pytest.raises(ValueError, match="not found"):
        load_dataset("mnist", tmp_path)


def test_folder_loading_and_errors(tmp_path) -> None:
    for i in range(3):
        Image.fromarray(np.full((8, 8), i * 40, np.uint8)).save(tmp_path / f"{i}.png")
    images = load_folder(tmp_path)
    assert images.shape == (3, 1, 8, 8) and int(images[2, 0, 0, 0]) == 80
    Image.fromarray(np.zeros((9, 9, 3), np.uint8)).save(tmp_path / "odd.png")
    with pytest.raises(ValueError, match="differ in size"):
        load_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="no images"):
        load_folder(tmp_path / "empty" if (tmp_path / "empty").mkdir() is None else tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_folder(tmp_path / "missing")
