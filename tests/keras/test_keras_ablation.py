"""Keras ablation: the kernel the evaluation sees, exact restore (also on errors), evaluator."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from bionn.keras import SchizoDense
from bionn.keras.ablation import ablate, classifier_evaluator, find_kernel
from bionn.removal import kept_fraction, removal_window

pytestmark = pytest.mark.keras


def _model() -> keras.Model:
    return keras.Sequential(
        [
            keras.Input((5, 5, 4)),
            keras.layers.Conv2D(6, 3, name="conv"),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="relu", use_bias=False, name="hidden"),
            SchizoDense(8, usage=0.5, name="schizo"),
            keras.layers.Dense(3, activation="softmax", name="out"),
        ]
    )


def _recorder(kernel: keras.Variable, seen: list[np.ndarray]):
    def evaluate(_: keras.Model) -> dict[str, float]:
        seen.append(keras.ops.convert_to_numpy(kernel).copy())
        return {"sum": float(seen[-1].sum())}

    return evaluate


@pytest.mark.parametrize(
    ("name", "n_x", "n_y"), [("hidden", 54, 10), ("conv", 4, 6), ("schizo", 10, 8)]
)
@pytest.mark.parametrize("pattern", ["diagonal", "gaussian", "striping"])
def test_evaluation_sees_the_rescaled_pattern_and_the_kernel_comes_back(
    name: str, n_x: int, n_y: int, pattern: str
) -> None:
    model = _model()
    kernel = find_kernel(model, name)
    trained = keras.ops.convert_to_numpy(kernel).copy()
    seen: list[np.ndarray] = []
    results = ablate(model, name, pattern, [3, 1], _recorder(kernel, seen))
    for strength, got, result in zip([3, 1], seen, results, strict=True):
        window = removal_window(pattern, n_x, n_y, strength)
        kept = kept_fraction(window)
        expected = trained * window.T.astype(np.float32)
        expected = expected / np.float32(kept) if kept > 0 else expected
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-30)  # TF flushes denormals
        assert (got[..., window.T == 0] == 0).all()
        assert result.removed == pytest.approx(1 - kept) and result.strength == strength
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel), trained)


@pytest.mark.parametrize("failure", [RuntimeError("evaluation broke"), KeyboardInterrupt()])
def test_the_kernel_is_restored_when_evaluation_fails(failure: BaseException) -> None:
    model = _model()
    kernel = find_kernel(model, "hidden")
    trained = keras.ops.convert_to_numpy(kernel).copy()

    def evaluate(_: keras.Model) -> dict[str, float]:
        raise failure

    with pytest.raises(type(failure)):
        ablate(model, "hidden", "random", [4], evaluate)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(kernel), trained)


def test_classifier_evaluator_matches_a_direct_computation() -> None:
    model = _model()
    rng = np.random.default_rng(0)
    x, y = rng.random((20, 5, 5, 4)).astype("float32"), rng.integers(0, 3, 20)
    metrics = classifier_evaluator(x, y, batch_size=6)(model)
    probs = keras.ops.convert_to_numpy(model(x, training=False)).astype(np.float64)
    assert metrics["loss"] == pytest.approx(
        float(-np.log(probs[np.arange(20), y]).mean()), rel=1e-4
    )
    assert metrics["accuracy"] == pytest.approx((probs.argmax(1) == y).mean())


def test_bad_layer_names_raise_with_candidates() -> None:
    model = _model()
    with pytest.raises(ValueError, match=r"'nope' is not in the model.*'conv'"):
        find_kernel(model, "nope")
    flatten = model.layers[1].name
    with pytest.raises(ValueError, match=f"layer '{flatten}' is a Flatten"):
        ablate(model, flatten, "diagonal", [1], lambda m: {})
