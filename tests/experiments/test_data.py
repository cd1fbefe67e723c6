"""Data sources: embedded digits, torchvision sets, image folders with caching and errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from bionn.data import folders as folders_module
from bionn.experiments.data import DataError, load_data, load_image_folder


def test_digits_embedded_upscaled() -> None:
    train = load_data("digits", size=32, channels=3)
    test = load_data("digits", size=32, train=False)
    assert train.images.shape[1:] == (3, 32, 32) and train.images.dtype == torch.uint8
    assert len(train) + len(test) == 1797 and train.classes == 10
    assert train.images.max() > 200  # scaled to the full uint8 range


def test_torchvision_from_data_root(data_root: Path) -> None:
    mnist = load_data("mnist", size=28, data_root=str(data_root), train=False)
    assert mnist.images.shape == (2000, 1, 28, 28) and mnist.labels.max() == 9


def test_torchvision_missing_says_how(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="pass --download"):
        load_data("cifar10", size=32, data_root=str(tmp_path))


def test_unknown_data_set() -> None:
    with pytest.raises(DataError, match="unknown data set 'imagenet'"):
        load_data("imagenet", size=32)


def _write_images(folder: Path) -> None:
    rng = np.random.default_rng(0)
    (folder / "cats" / "deep").mkdir(parents=True)
    (folder / "dogs").mkdir()
    Image.fromarray(rng.integers(0, 255, (40, 60, 3), dtype=np.uint8)).save(
        folder / "cats" / "a.png"
    )
    Image.fromarray(rng.integers(0, 255, (50, 30, 3), dtype=np.uint8)).save(
        folder / "cats" / "deep" / "b.jpg"
    )
    Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8)).save(folder / "dogs" / "c.png")
    (folder / "notes.txt").write_text("not an image")


def test_folder_recursive_resized_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, cache = tmp_path / "imgs", tmp_path / "cache"
    _write_images(folder)
    first = load_image_folder(folder, 16, 3, cache_dir=str(cache))
    assert first.images.shape == (3, 3, 16, 16) and first.images.dtype == torch.uint8
    assert first.classes == 3  # cats, cats/deep, dogs
    assert len(list(cache.glob("*.pt"))) == 1

    def no_decoding(*args: object) -> None:
        raise AssertionError("decoded again although cached")

    monkeypatch.setattr(folders_module, "read_image", no_decoding)
    second = load_image_folder(folder, 16, 3, cache_dir=str(cache))
    assert torch.equal(first.images, second.images)
    monkeypatch.undo()
    other_size = load_image_folder(folder, 8, 1, cache_dir=str(cache))  # new key
    assert other_size.images.shape == (3, 1, 8, 8)
    Image.new("RGB", (10, 10)).save(folder / "dogs" / "new.png")  # contents changed: new key
    assert len(load_image_folder(folder, 16, 3, cache_dir=str(cache))) == 4


def test_centre_crop(tmp_path: Path) -> None:
    array = np.zeros((10, 30, 3), dtype=np.uint8)
    array[:, 10:20] = 255  # the centre third is white
    Image.fromarray(array).save(tmp_path / "wide.png")
    images = load_image_folder(tmp_path, 10, 3, cache_dir=str(tmp_path / "c")).images
    assert images.float().mean() > 240


def test_corrupt_images_listed_or_skipped(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "imgs"
    _write_images(folder)
    (folder / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8 definitely not a jpeg")
    with pytest.raises(DataError, match=r"(?s)1 unreadable image.*--skip-corrupt.*broken\.jpg"):
        load_image_folder(folder, 16, cache_dir=str(tmp_path / "c"))
    kept = load_image_folder(folder, 16, cache_dir=str(tmp_path / "c"), skip_corrupt=True)
    assert len(kept) == 3
    assert "skipping 1 unreadable" in caplog.text and "broken.jpg" in caplog.text


def test_empty_or_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(DataError, match="no images"):
        load_image_folder(tmp_path / "empty", 16)
    with pytest.raises(DataError, match="does not exist"):
        load_image_folder(tmp_path / "absent", 16)


def test_folder_decoded_by_workers(tmp_path: Path) -> None:
    _write_images(tmp_path / "imgs")
    serial = load_image_folder(tmp_path / "imgs", 12, cache_dir=str(tmp_path / "a"))
    parallel = load_image_folder(tmp_path / "imgs", 12, cache_dir=str(tmp_path / "b"), workers=2)
    assert torch.equal(serial.images, parallel.images)


def _class_folders(root, classes, per_class, size=8, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    for name in classes:
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")


def test_class_folders_train_with_the_sibling_test_split(tmp_path):
    from bionn.data import load_data

    _class_folders(tmp_path / "set" / "train", ["dog", "cat", "ant"], per_class=3)
    _class_folders(tmp_path / "set" / "test", ["ant", "cat", "dog"], per_class=2, seed=1)
    train = load_data(str(tmp_path / "set" / "train"), size=8, cache_dir=str(tmp_path / "c"))
    test = load_data(
        str(tmp_path / "set" / "train"), size=8, train=False, cache_dir=str(tmp_path / "c")
    )
    assert train.class_names == test.class_names == ("ant", "cat", "dog")
    assert train.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert test.labels.tolist() == [0, 0, 1, 1, 2, 2] and test.classes == 3
    # the label is the sub-folder: an image of test/cat is labelled 'cat'
    from PIL import Image

    cat = np.array(Image.open(tmp_path / "set" / "test" / "cat" / "1.png")).transpose(2, 0, 1)
    assert torch.equal(test.images[3], torch.from_numpy(cat))
    # the second load is the cache: the same tensors, no decoding
    again = load_data(
        str(tmp_path / "set" / "train"), size=8, train=False, cache_dir=str(tmp_path / "c")
    )
    assert torch.equal(again.images, test.images) and again.class_names == test.class_names


def test_explicit_test_folder_and_mismatched_classes(tmp_path):
    from bionn.data import DataError, load_data

    _class_folders(tmp_path / "photos", ["a", "b"], per_class=2)
    _class_folders(tmp_path / "held-out", ["a", "c"], per_class=1)
    assert load_data(str(tmp_path / "photos"), size=8, train=False) is None  # not named train
    with pytest.raises(DataError, match=r"missing \['b'\], not in training \['c'\]"):
        load_data(
            str(tmp_path / "photos"),
            size=8,
            train=False,
            test_data=str(tmp_path / "held-out"),
            cache_dir=str(tmp_path / "c"),
        )
    with pytest.raises(DataError, match="--test-data .* is not a folder"):
        load_data(str(tmp_path / "photos"), size=8, train=False, test_data=str(tmp_path / "no"))


def test_classifier_trains_on_class_folders_and_scores_their_test_split(tmp_path):
    from bionn.experiments import make_config, run_training
    from bionn.experiments.evaluation import read_records

    _class_folders(tmp_path / "set" / "train", ["x", "y"], per_class=8, size=32)
    _class_folders(tmp_path / "set" / "test", ["x", "y"], per_class=4, size=32, seed=2)
    config = make_config(
        "classifier",
        model="cnn",
        data=str(tmp_path / "set" / "train"),
        image_size=32,
        batch_size=4,
        epochs=1,
        progress=False,
        device="cpu",
        cache_dir=str(tmp_path / "c"),
        out=str(tmp_path / "run"),
    )
    run_training(config)
    epochs = [r for r in read_records(tmp_path / "run") if "test_acc" in r]
    assert len(epochs) == 1 and 0 <= epochs[0]["test_acc"] <= 1
    assert json.loads((tmp_path / "run" / "config.json").read_text())["classes"] == 2


def test_test_data_is_refused_for_named_data_sets():
    from bionn.experiments import make_config
    from bionn.experiments.config import ConfigError

    with pytest.raises(ConfigError, match="--test-data is for image folders"):
        make_config("classifier", model="mlp", data="mnist", test_data="/tmp")
