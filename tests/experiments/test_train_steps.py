"""The training steps follow the published procedures; compiled steps run for every model."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import Tensor, nn

from bionn.experiments import build_model, make_config
from bionn.experiments.data import ImageData
from bionn.experiments.ddp import Dist
from bionn.experiments.train.base import Context, Trainer
from bionn.experiments.train.ddim import CPU_MICRO_BATCH, EMA, DDIMTrainer
from bionn.experiments.train.gan import GANTrainer

TINY = {
    "gan": {"image_size": 16, "width": 8, "disc_width": 8},
    "ddim": {"image_size": 16, "width": 8, "levels": 2},
}


def _trainer(kind: str, variant: str = "mouse", **options: Any) -> tuple[Trainer, Tensor, Tensor]:
    config = make_config(
        kind, variant=variant, batch_size=4, channels=3, **{**TINY[kind], **options}
    )
    torch.manual_seed(0)
    images = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    labels = torch.arange(4) % 10
    model = build_model(config, channels=3, classes=10)
    trainer_class = GANTrainer if kind == "gan" else DDIMTrainer
    trainer = trainer_class(
        Context(config, Dist()), model, ImageData(images, labels, 10, "t"), None
    )
    return trainer, images.float() / 255, labels


class _Recorder(nn.Module):
    """Calls the wrapped generator and records its latents and whether autograd was on."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator
        self.calls: list[tuple[Tensor, bool]] = []

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        self.calls.append((z.clone(), torch.is_grad_enabled()))
        return self.generator(z, labels)


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
def test_paper_generator_step_draws_fresh_latents(model: str) -> None:
    trainer, images, labels = _trainer("gan", model=model)
    recorder = _Recorder(trainer.generator)
    trainer.generator = recorder  # type: ignore[attr-defined]
    trainer.train_step(images, labels)
    (z_d, grad_d), (z_g, grad_g) = recorder.calls
    assert not grad_d and grad_g  # D step: no graph through the generator
    assert not torch.equal(z_d, z_g)


def test_tutorial_generator_step_reuses_the_batch() -> None:
    trainer, images, labels = _trainer("gan", model="tutorial")
    recorder = _Recorder(trainer.generator)
    trainer.generator = recorder  # type: ignore[attr-defined]
    trainer.train_step(images, labels)
    assert len(recorder.calls) == 1 and recorder.calls[0][1]


def test_generator_step_computes_no_discriminator_gradients() -> None:
    trainer, images, labels = _trainer("gan")
    assert isinstance(trainer, GANTrainer)
    calls = []
    for p in trainer.gan.discriminator.parameters():
        p.register_hook(lambda grad: calls.append(1))
    trainer.train_step(images, labels)
    n_params = len(list(trainer.gan.discriminator.parameters()))
    assert len(calls) == n_params  # the discriminator step's gradients only
    assert all(p.requires_grad for p in trainer.gan.discriminator.parameters())


def test_ema_averages_from_the_first_step() -> None:
    model = nn.Linear(3, 2)
    ema = EMA(model, decay=0.9)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    assert torch.allclose(ema.module.weight, 0.9 * start + 0.1 * model.weight)


def _ddim_step(micro_batch: int) -> tuple[dict[str, float], list[Tensor]]:
    trainer, images, labels = _trainer("ddim", dropout=0.0, micro_batch=micro_batch)
    calls = []
    network = trainer.network
    trainer.network = lambda x, rates: calls.append(len(x)) or network(x, rates)  # type: ignore
    torch.manual_seed(1)
    metrics = trainer.train_step(images, labels)
    grads = [p.grad.clone() for p in trainer.model.parameters() if p.grad is not None]
    return {**metrics, "calls": calls}, grads


def test_ddim_micro_batches_take_the_same_step_as_the_whole_batch() -> None:
    whole, whole_grads = _ddim_step(micro_batch=4)
    split, split_grads = _ddim_step(micro_batch=1)
    assert whole["calls"] == [4] and split["calls"] == [1, 1, 1, 1]
    assert split["loss"] == pytest.approx(whole["loss"], rel=1e-5)
    assert len(split_grads) == len(whole_grads) > 0
    for mine, theirs in zip(split_grads, whole_grads, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-3, atol=1e-5)  # summation order


def test_ddim_splits_cpu_batches_by_default() -> None:
    trainer, _, _ = _trainer("ddim")
    assert trainer.micro_batch == CPU_MICRO_BATCH
    assert _trainer("ddim", micro_batch=2)[0].micro_batch == 2


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["gan", "ddim"])
@pytest.mark.parametrize("variant", ["standard", "mouse"])
def test_compiled_steps_run(kind: str, variant: str) -> None:
    trainer, images, labels = _trainer(kind, variant, compile=True)
    for _ in range(2):
        metrics = trainer.train_step(images, labels)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    assert trainer.samples() is not None
