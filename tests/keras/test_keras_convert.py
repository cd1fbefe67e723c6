"""``bionn.keras.mousify`` / ``schizofy``: Keras models converted with weights kept and masked."""

from __future__ import annotations

import keras
import numpy as np
import pytest
from keras import layers

import bionn.keras as mouse

pytestmark = pytest.mark.keras


def numpy(value) -> np.ndarray:
    return keras.ops.convert_to_numpy(value)


def functional_model() -> keras.Model:
    inputs = keras.Input((8, 8, 3))
    x = layers.Conv2D(32, 3, padding="same", activation="relu", name="stem")(inputs)
    x = layers.Conv2D(64, 3, padding="same", name="conv")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.Conv2DTranspose(32, 3, strides=2, padding="same", name="up")(x)
    x = layers.DepthwiseConv2D(3, name="depthwise")(x)
    x = layers.GlobalAveragePooling2D()(x)
    head = keras.Sequential(
        [
            keras.Input((32,)),
            layers.Dense(64, activation="relu", name="fc1"),
            layers.Dense(32, name="fc2"),
        ],
        name="mlp",
    )
    outputs = layers.Dense(10, name="classifier")(head(x))
    return keras.Model(inputs, outputs)


def images() -> np.ndarray:
    return np.random.default_rng(0).random((2, 8, 8, 3), "float32")


def test_functional_model_converted_weights_carried_and_masked() -> None:
    model = functional_model()
    model.get_layer("bn").set_weights(
        [w + 0.5 for w in model.get_layer("bn").get_weights()]
    )  # statistics that are not the initial ones must be carried too
    result = mouse.mousify(model, usage=0.35)
    assert [(c.name, c.after) for c in result.replaced] == [
        ("conv", "MouseConv2D"),
        ("up", "MouseConv2DTranspose"),
        ("mlp/fc1", "MouseDense"),
        ("mlp/fc2", "MouseDense"),
    ]
    assert {c.name: c.note.split(" ")[0] for c in result.skipped} == {
        "stem": "3",
        "classifier": "last",
        "depthwise": "no",
    }
    assert type(model.get_layer("conv")) is layers.Conv2D  # the original is untouched
    new = result.model
    for name in ("conv", "up"):
        old_kernel, window = numpy(model.get_layer(name).kernel), numpy(new.get_layer(name).window)
        np.testing.assert_array_equal(numpy(new.get_layer(name).kernel), old_kernel * window)
        assert 0.3 < new.get_layer(name).usage < 0.4
    for name in ("stem", "bn", "depthwise", "classifier"):
        for a, b in zip(
            model.get_layer(name).get_weights(), new.get_layer(name).get_weights(), strict=True
        ):
            np.testing.assert_array_equal(a, b)
    # the converted model computes what the original computes with masked kernels
    for name in ("conv", "up"):
        weights = model.get_layer(name).get_weights()
        model.get_layer(name).set_weights([numpy(new.get_layer(name).kernel), *weights[1:]])
    for name in ("fc1", "fc2"):
        old, converted = (
            model.get_layer("mlp").get_layer(name),
            new.get_layer("mlp").get_layer(name),
        )
        old.set_weights([numpy(converted.kernel), *old.get_weights()[1:]])
    np.testing.assert_allclose(numpy(new(images())), numpy(model(images())), atol=1e-5)
    assert "mlp/fc1: Dense -> MouseDense" in str(result)


def test_sequential_model_and_keras_file_round_trip(tmp_path) -> None:
    model = keras.Sequential(
        [
            keras.Input((64,)),
            layers.Dense(128, activation="relu"),
            layers.Dense(64),
            layers.Dense(10),
        ]
    )
    result = mouse.schizofy(model, usage=0.5, form="random", seed=7)
    assert [layer.get_config()["seed"] for layer in result.model.layers[:2]] == [7, 8]
    assert [type(layer).__name__ for layer in result.model.layers] == [
        "SchizoDense",
        "SchizoDense",
        "Dense",
    ]
    x = np.random.default_rng(1).random((3, 64), "float32")
    path = tmp_path / "converted.keras"
    result.model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(numpy(loaded(x)), numpy(result.model(x)))


def test_original_example_converts_to_the_hand_written_windows() -> None:
    """The original README's DCGAN generator: plain Conv2D converted == hand-written mConv2D."""

    def generator(conv: layers.Layer) -> keras.Sequential:
        return keras.Sequential(
            [
                keras.Input((100,)),
                layers.Dense(4 * 4 * 1024, activation="relu"),
                layers.Reshape((4, 4, 1024)),
                conv,
                layers.Activation("relu"),
                layers.Dense(10, activation="sigmoid"),
            ]
        )

    hand_written = generator(
        mouse.mConv2D(
            512,
            form="2d",
            input2d_width=32,
            output2d_width=32,
            window2d_width=0.5,
            kernel_size=5,
            strides=2,
            padding="same",
        )
    )
    written = hand_written.layers[2]
    plain = generator(layers.Conv2D(512, kernel_size=5, strides=2, padding="same"))
    result = mouse.mousify(plain, usage=written.usage, include=[layers.Conv2D])
    converted = result.model.layers[2]
    assert [c.name for c in result.replaced] == [plain.layers[2].name]
    assert converted.usage == written.usage
    np.testing.assert_array_equal(numpy(converted.window), numpy(written.window))


def test_keep_weights_false_initialises_as_a_new_layer() -> None:
    model = keras.Sequential([keras.Input((32,)), layers.Dense(64), layers.Dense(2)])
    result = mouse.mousify(model, keep_weights=False)
    layer = result.model.layers[0]
    kernel, window = numpy(layer.kernel), numpy(layer.window).astype(bool)
    assert np.all(kernel[~window] == 0)
    assert not np.array_equal(kernel, numpy(model.layers[0].kernel) * window)


def test_rules_and_errors_match_pytorch() -> None:
    model = functional_model()
    result = mouse.mousify(model, include=["mlp"], exclude=["mlp/fc2"])
    assert [c.name for c in result.replaced] == ["mlp/fc1"]
    assert {c.name: c.note for c in result.skipped}["mlp/fc2"] == "excluded"
    result = mouse.mousify(model, include=["classifier", layers.Conv2DTranspose], min_channels=8)
    assert [c.name for c in result.replaced] == ["up", "classifier"]
    with pytest.raises(TypeError, match="mousify cannot convert Conv1D.*Dense, Conv2D"):
        mouse.mousify(model, include=[layers.Conv1D])
    with pytest.raises(ValueError, match="include pattern 'fc' matches no convertible layer"):
        mouse.mousify(model, include=["fc"])
    with pytest.raises(ValueError, match="min_channels must be an int >= 1"):
        mouse.mousify(model, min_channels=0)
    with pytest.raises(ValueError, match="has no conv version; pass conv_form"):
        mouse.schizofy(model, form="gaussian")
    with pytest.raises(ValueError, match="mousify: the model is not built"):
        mouse.mousify(keras.Sequential([layers.Dense(32), layers.Dense(2)]))


def test_unknown_keywords_name_the_function_and_options_stay_keyword_only() -> None:
    model = functional_model()
    with pytest.raises(
        TypeError,
        match=r"^mousify\(\) got an unexpected keyword argument "
        r"'skip_lsat'; it takes model, usage, include, exclude, min_channels, "
        r"skip_last, keep_weights$",
    ):
        mouse.mousify(model, skip_lsat=False)
    with pytest.raises(
        TypeError,
        match=r"^schizofy\(\) .* 'conv_forms'; it takes model, usage, "
        r"form, include, .*, keep_weights, conv_form, seed$",
    ):
        mouse.schizofy(model, conv_forms="kernel")
    with pytest.raises(TypeError, match="positional"):
        mouse.schizofy(model, 0.5, "random", "kernel")
    result = mouse.schizofy(
        model,
        0.5,
        "random",
        conv_form="kernel",
        seed=3,
        min_channels=8,
        skip_last=False,
        keep_weights=True,
    )
    assert [c.name for c in result.replaced] == ["conv", "up", "mlp/fc1", "mlp/fc2", "classifier"]
    assert [
        layer.window_spec.seed for layer in result.model.layers if hasattr(layer, "window_spec")
    ][:2] == [3, 4]


def test_windowed_and_subclassed_layers_stay_with_a_reason() -> None:
    class MyDense(layers.Dense):
        pass

    model = keras.Sequential(
        [keras.Input((32,)), mouse.MouseDense(32, usage=0.5), MyDense(32), layers.Dense(2)]
    )
    with pytest.warns(UserWarning, match="mousify: nothing converted .*already windowed"):
        result = mouse.mousify(model)
    notes = [c.note for c in result.skipped]
    assert notes[0] == "already windowed" and notes[1].startswith("subclass MyDense")
    for old, new in zip(model.layers, result.model.layers, strict=True):  # weights carried
        assert type(new) is type(old)
        for a, b in zip(old.get_weights(), new.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
