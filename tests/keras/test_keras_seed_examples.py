"""The seed's examples run unchanged after ``import bionn.keras as mouse``: train, save, load."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import bionn.keras as mouse
import bionn.keras as schizo

pytestmark = pytest.mark.keras


def _round_trip(model, x, path):
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x))
    )


def test_mouse_dcgan_example(tmp_path):
    num_class = 10
    model = keras.Sequential(
        [
            layers.Dense(4 * 4 * 1024, activation="relu"),
            layers.Reshape((4, 4, 1024)),
            mouse.mConv2D(
                512,
                form="2d",
                input2d_width=32,
                output2d_width=32,
                window2d_width=0.5,
                kernel_size=5,
                strides=2,
                padding="same",
            ),
            layers.Activation("relu"),
            layers.Dense(num_class, activation="sigmoid"),
        ]
    )
    rng = np.random.default_rng(0)
    x = rng.random((2, 100), "float32")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, rng.random((2, 2, 2, num_class), "float32"), epochs=1, verbose=0)
    conv = model.layers[2]
    assert conv.get_reduced_ratio() == pytest.approx(1 - conv.usage)
    assert 0.4 < conv.usage < 0.55
    _round_trip(model, x, tmp_path / "dcgan.keras")


def _mnist(data_root, n):
    raw = data_root / "MNIST" / "raw"
    images = np.frombuffer((raw / "train-images-idx3-ubyte").read_bytes(), np.uint8, offset=16)
    labels = np.frombuffer((raw / "train-labels-idx1-ubyte").read_bytes(), np.uint8, offset=8)
    images = images.reshape(-1, 28, 28, 1)[:n].astype("float32") / 255.0
    return images, keras.utils.to_categorical(labels[:n], 10)


def test_schizo_mnist_example(data_root, tmp_path):
    training_images, training_labels = _mnist(data_root, 1024)
    model = keras.Sequential(
        [
            layers.Flatten(),
            schizo.SzDense(
                512, param_reduction=0.5, activation="relu", kernel_initializer="he_normal"
            ),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(training_images, training_labels, batch_size=32, epochs=2, verbose=0)
    assert history.history["loss"][1] < history.history["loss"][0]
    assert history.history["accuracy"][1] > 0.5
    assert model.layers[1].get_reduced_ratio() == pytest.approx(0.5, abs=0.01)
    assert model.layers[1].get_halfbandwidth() > 0
    _round_trip(model, training_images[:8], tmp_path / "schizo.keras")
