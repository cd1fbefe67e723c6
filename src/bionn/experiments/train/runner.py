"""The loop every experiment shares: data order, progress, metrics, checkpoints, resume, signals.

Data order is a function of (seed, epoch) (:func:`~bionn.experiments.ddp.epoch_indices`) and a
checkpoint stores the optimiser step, so ``--resume`` re-enters the same epoch at the same batch
with the same RNG states: a run killed with SIGKILL and resumed ends with the same weights as
one never interrupted (CPU, or GPU with ``--deterministic``). SIGINT / SIGTERM finish the current
step, write a checkpoint and end the run with status 'interrupted'.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import torch

import bionn
from bionn.data import clear_stale_temporaries
from bionn.experiments import ddp
from bionn.experiments.checkpoint import (
    LAST,
    MODEL_FILE,
    get_rng_states,
    read_checkpoint,
    save_checkpoint,
    save_model_file,
    set_rng_states,
)
from bionn.experiments.config import ConfigError, RunConfig, with_published
from bionn.experiments.data import DataError, ImageData, load_data
from bionn.experiments.models import build_model
from bionn.experiments.plan import DataFacts, RunPlan, resolve
from bionn.experiments.sampling import save_grid
from bionn.experiments.train.base import Context, Trainer
from bionn.experiments.train.outputs import MetricsLog, write_summary
from bionn.experiments.train.periodic_eval import make_evaluator, sampling_model
from bionn.experiments.train.resume import RunError, check_new_run_dir, merge_resumed_config

__all__ = ["RunError", "RunResult", "run_training"]


@dataclass
class RunResult:
    """What a training run produced.

    Attributes:
        run_dir: The run folder.
        summary: The dict written to ``summary.json``.
        metrics: The last logged metrics (per-epoch test metrics included for classifiers).
        checkpoint: The final checkpoint file.
        status: 'completed' or 'interrupted'.
        plan: The resolved plan the run followed.

    """

    run_dir: Path
    summary: dict[str, Any]
    metrics: dict[str, Any]
    checkpoint: Path
    status: str
    plan: RunPlan


logger = logging.getLogger(__name__)


def cpu_lacks_bf16(device: torch.device) -> bool:
    """Whether bf16 autocast on ``device`` would run without native bf16 convolutions.

    oneDNN computes bf16 convolutions natively only with AVX512-BF16 or AMX; elsewhere torch
    falls back to reference kernels many times slower than fp32.
    """
    return device.type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported()


def _trainer_class(kind: str) -> type[Trainer]:
    from bionn.experiments.train.classifier import ClassifierTrainer
    from bionn.experiments.train.ddim import DDIMTrainer
    from bionn.experiments.train.gan import GANTrainer

    return {"gan": GANTrainer, "ddim": DDIMTrainer, "classifier": ClassifierTrainer}[kind]


def _load_split(config: RunConfig, train: bool) -> ImageData | None:
    data = load_data(
        config.data,
        size=config.image_size or 0,
        channels=config.channels,
        train=train,
        data_root=config.data_root,
        download=config.download,
        cache_dir=config.cache_dir,
        skip_corrupt=config.skip_corrupt,
        workers=config.workers,
        test_data=config.test_data,
    )
    if data is not None and train and config.limit:
        data.images, data.labels = data.images[: config.limit], data.labels[: config.limit]
    return data


class _Run:
    def __init__(
        self, config: RunConfig, place: ddp.Dist, resume: bool, given: set[str] | None
    ) -> None:
        self.place = place
        self.payload: dict[str, Any] | None = None
        run_dir = config.run_dir()
        if resume:
            if place.main:  # what a killed writer left; nothing writes here before we start
                clear_stale_temporaries(run_dir)
            self.payload = read_checkpoint(run_dir / "checkpoints" / LAST)
            config = merge_resumed_config(self.payload["config"], config, given)
        elif place.main:
            check_new_run_dir(run_dir)
        # published values first: the data is loaded at the published image size
        self.config, self.run_dir = with_published(config), run_dir
        self.interrupted = False
        self.started = time.perf_counter()
        self.time_before = float(self.payload.get("time_s", 0.0)) if self.payload else 0.0

    # -- setup ------------------------------------------------------------------------------

    def _prepare(self) -> Trainer:
        config = self.config
        if config.precision == "fp16" and self.place.device.type != "cuda":
            raise ConfigError("--precision fp16 needs CUDA; use bf16 (or fp32) on the CPU")
        if config.precision == "bf16" and cpu_lacks_bf16(self.place.device):
            logger.warning(
                "--precision bf16: this CPU has no native bfloat16 convolutions "
                "(AVX512-BF16 or AMX); bf16 runs many times slower than fp32 here "
                "(see benchmarks/README.md): prefer --precision fp32 on it"
            )
        if config.deterministic:
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            torch.use_deterministic_algorithms(True)
        torch.manual_seed(config.seed)
        train = _load_split(config, train=True)
        assert train is not None
        test = _load_split(config, train=False) if config.kind == "classifier" else None
        facts = DataFacts(
            images=len(train),
            channels=int(train.images.shape[1]),
            classes=max(train.classes, int(train.labels.max()) + 1),
        )
        self.plan = resolve(config, facts)
        self.config = config = self.plan.config
        torch.manual_seed(config.seed)  # weights do not depend on how the data was loaded
        model = build_model(config)
        torch.manual_seed(config.seed + 1000 * self.place.rank)  # noise differs per rank
        trainer = _trainer_class(config.kind)(Context(config, self.place), model, train, test)
        n_local = (
            len(ddp.epoch_indices(len(train), 0, config.seed, self.place, trainer.drop_last))
            * trainer.repetitions
        )
        batch = cast(int, config.batch_size)  # a resolved config has every value
        batches = n_local // batch if trainer.drop_last else -(-n_local // batch)
        if batches < 1:
            raise DataError(
                f"the data set has {len(train)} images for {self.place.world} "
                f"process(es): fewer than --batch-size {batch}"
            )
        self.batches_per_epoch = batches
        self.total = config.steps or (config.epochs or 1) * batches
        self.evaluate = (
            make_evaluator(config, train, test, self.place.device, config.curve_samples)
            if config.eval_every and self.place.main
            else None
        )
        return trainer

    def _restore(self, trainer: Trainer) -> int:
        if self.payload is None:
            return 0
        payload = self.payload
        trainer.model.load_state_dict(payload["model"])
        for name, optimizer in trainer.optimizers.items():
            optimizer.load_state_dict(payload["optimizer"][name])
        for name, state in (payload["scaler"] or {}).items():
            trainer.ctx.scaler(name).load_state_dict(state)
        if payload["ema"] is not None:
            trainer.load_ema_state(payload["ema"])
        trainer.load_extra_state(payload.get("trainer", {}))
        states = payload["rng_states"]
        set_rng_states(states[self.place.rank] if isinstance(states, list) else states)
        return int(payload["step"])

    # -- files ------------------------------------------------------------------------------

    def _checkpoint(self, trainer: Trainer, step: int) -> Path:
        rng: dict[str, Any] | list[Any] = get_rng_states()
        if self.place.active:  # each rank continues its own noise stream on resume
            gathered: list[Any] = [None] * self.place.world
            torch.distributed.all_gather_object(gathered, rng)
            rng = gathered
        path = self.run_dir / "checkpoints" / LAST
        if self.place.main:
            payload = {
                "model": trainer.model.state_dict(),
                "optimizer": {n: o.state_dict() for n, o in trainer.optimizers.items()},
                "scaler": {n: s.state_dict() for n, s in trainer.ctx.scalers.items()} or None,
                "ema": trainer.ema_state(),
                "step": step,
                "config": self.config.to_dict(),
                "rng_states": rng,
                "version": bionn.__version__,
                "trainer": trainer.extra_state(),
                "time_s": self.time_before + time.perf_counter() - self.started,
            }
            save_checkpoint(path, payload, keep=self.config.keep)
        return path

    def _samples(self, trainer: Trainer, name: str, step: int, log: MetricsLog) -> None:
        if not self.place.main:
            return
        images = trainer.samples()
        if images is not None:
            (self.run_dir / "samples").mkdir(exist_ok=True)
            save_grid(images, self.run_dir / "samples" / f"{name}.png")
            log.add_images("samples", images, step)

    # -- loop -------------------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.interrupted = True

    def execute(self) -> RunResult:
        trainer = self._prepare()
        step = self._restore(trainer)
        config, main = self.config, self.place.main
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            (self.run_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2))
        board = self.run_dir / "tensorboard" if config.log == "tensorboard" else None
        log = MetricsLog(
            self.run_dir / "metrics.jsonl", main, step if self.payload else None, tensorboard=board
        )
        # signal handlers can only be set from the main thread (callers may use threads)
        signals = (signal.SIGINT, signal.SIGTERM)
        in_main = threading.current_thread() is threading.main_thread()
        previous = {s: signal.signal(s, self._on_signal) for s in signals} if in_main else {}
        self.started = time.perf_counter()
        try:
            step = self._loop(trainer, step, log)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        elapsed = self.time_before + time.perf_counter() - self.started
        checkpoint = self._checkpoint(trainer, step)
        status = "interrupted" if step < self.total else "completed"
        if status == "completed":
            self._samples(trainer, "final", step, log)
            if main:  # the weights a sampler uses (DDIM: EMA), beside config.json
                save_model_file(
                    self.run_dir / MODEL_FILE,
                    trainer.ema_state() or trainer.model.state_dict(),
                    config.to_dict(),
                    step,
                )
        log.close()
        summary = {}
        if main:
            facts = {
                "status": status,
                "steps": step,
                "total_steps": self.total,
                "epochs": step / self.batches_per_epoch,
                "time_s": elapsed,
                "device": str(self.place.device),
                "world_size": self.place.world,
            }
            summary = write_summary(self.run_dir, config, trainer.model, log.records, facts)
            summary.update(trainer.finish(self.run_dir, log.records))
            (self.run_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
        last = log.records[-1] if log.records else {}
        return RunResult(self.run_dir, summary, last, checkpoint, status, self.plan)

    def _loop(self, trainer: Trainer, step: int, log: MetricsLog) -> int:
        from tqdm import tqdm

        config, place = self.config, self.place
        batch_size = cast(int, config.batch_size)  # a resolved config has every value
        bar = tqdm(
            total=self.total,
            initial=step,
            disable=not (config.progress and place.main),
            desc=f"{config.kind} {config.variant}",
            dynamic_ncols=True,
            file=sys.stderr,
        )
        window_start, window_images = time.perf_counter(), 0
        data = trainer.data
        while step < self.total:
            epoch, offset = divmod(step, self.batches_per_epoch)
            order = torch.cat(
                [
                    ddp.epoch_indices(
                        len(data),
                        epoch * trainer.repetitions + r,
                        config.seed,
                        place,
                        trainer.drop_last,
                    )
                    for r in range(trainer.repetitions)
                ]
            )
            for batch in range(offset, self.batches_per_epoch):
                index = order[batch * batch_size : (batch + 1) * batch_size]
                images = data.images[index].to(place.device).float() / 255.0
                metrics = trainer.train_step(images, data.labels[index].to(place.device))
                step += 1
                window_images += len(index) * place.world
                bar.update(1)
                if step % config.log_every == 0 or step == self.total:
                    now = time.perf_counter()
                    metrics["images_per_s"] = window_images / max(now - window_start, 1e-9)
                    window_start, window_images = now, 0
                    log.write({"step": step, "epoch": epoch, **metrics})
                    bar.set_postfix({k: f"{v:.3g}" for k, v in metrics.items()})
                if batch == self.batches_per_epoch - 1:
                    epoch_metrics = trainer.end_of_epoch(epoch)
                    if epoch_metrics:
                        log.write({"step": step, "epoch": epoch, **epoch_metrics})
                if self.evaluate and (step % config.eval_every == 0 or step == self.total):
                    log.write(
                        {"step": step, "epoch": epoch, **self.evaluate(sampling_model(trainer))}
                    )
                if config.sample_every and step % config.sample_every == 0:
                    self._samples(trainer, f"step_{step:07d}", step, log)
                stop = ddp.any_rank(self.interrupted, place)
                if (config.checkpoint_every and step % config.checkpoint_every == 0) or stop:
                    self._checkpoint(trainer, step)
                if stop or step >= self.total:
                    bar.close()
                    return step
        bar.close()
        return step


def warm_evaluation_cache(config: RunConfig) -> None:
    """Build what a run's ``--eval-every`` scoring caches on disk, if it caches anything.

    A generator run's first evaluation trains the proxy classifier (grey data sets) and
    measures the real images' statistics, both cached. Runs trained in parallel call this
    first, in one process, so that they do not all build the same cache at once.
    """
    config = with_published(config)
    if not config.eval_every or config.kind == "classifier":
        return  # a classifier scores on its test split: nothing to cache
    train = _load_split(config, train=True)
    assert train is not None
    make_evaluator(config, train, None, torch.device("cpu"), config.curve_samples)


def run_training(
    config: RunConfig, *, resume: bool = False, given: set[str] | None = None
) -> RunResult:
    """Train one run as configured; the Python entry point behind ``bionn train``.

    Args:
        config: A :class:`GANConfig`, :class:`DDIMConfig` or :class:`ClassifierConfig`; its
            ``out`` (or the default name) is the run folder, which must not hold another run.
        resume: Continue the run in ``config.out`` from its last checkpoint (the saved config
            is used; only ``steps`` / ``epochs`` and runtime options may change).
        given: With ``resume``, the option names the user set (others are taken from the
            checkpoint); None compares every option.

    Returns:
        A :class:`RunResult`; ``status`` is 'interrupted' after SIGINT / SIGTERM.

    Raises:
        ConfigError, DataError, BuildError, CheckpointError, RunError: Clear messages for bad
            input; nothing is written before the inputs are checked.

    """
    place = ddp.setup(config.device)
    deterministic = torch.are_deterministic_algorithms_enabled()
    try:
        return _Run(config, place, resume, given).execute()
    finally:
        torch.use_deterministic_algorithms(deterministic)  # callers keep their setting
        ddp.cleanup(place)
