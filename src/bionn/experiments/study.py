"""What ``bionn compare`` and ``bionn sweep`` share: seeds, run folders and the overall progress.

A study trains many runs of one configuration that differ only in variant, seed and usage.
:func:`ensure_run` makes that safe to repeat: a finished run is reused, an interrupted one
resumed from its checkpoint, and a folder holding a run of another configuration is an error,
never overwritten.
"""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

__all__ = [
    "StudyError",
    "bio_variant",
    "check_jobs",
    "ensure_run",
    "parse_seeds",
    "progress_bar",
    "train_runs",
]

# files a run writes before its first checkpoint: safe to clear when restarting that run
_EARLY_FILES = {"config.json", "metrics.jsonl", "samples"}


class StudyError(ValueError):
    """A study folder or option that cannot be used; the message says why."""


def parse_seeds(text: str) -> list[int]:
    """``"3"`` -> [0, 1, 2]; ``"4,7"`` -> [4, 7]."""
    try:
        if "," in text:
            seeds = [int(part) for part in text.split(",") if part.strip()]
        else:
            seeds = list(range(int(text)))
    except ValueError as error:
        raise StudyError(
            f"--seeds must be a count or a comma list of ints, got {text!r}"
        ) from error
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise StudyError(f"--seeds must give distinct seeds >= 0, got {text!r}")
    return seeds


def bio_variant(kind: str, model: str | None) -> str:
    """Return the bio-mimetic variant of ``model`` ('mouse' or 'schizo')."""
    from bionn.experiments.config import config_class

    cls = config_class(kind)
    name = model or cls().model
    variants = cls.MODELS.get(name, ("standard", "mouse"))
    return next(v for v in variants if v != "standard")


def _train(config: Any, resume: bool = False) -> None:
    """Train (or resume) one run; an interrupted run (SIGINT / SIGTERM) stops the study.

    Raises:
        KeyboardInterrupt: The run was interrupted; its checkpoint is written and the same
            command resumes it. Going on to the next run, or scoring this one, would be wrong.

    """
    from bionn.experiments import run_training

    result = run_training(config, resume=resume)
    if result.status == "interrupted":
        raise KeyboardInterrupt(
            f"{result.run_dir} interrupted at its last checkpoint; the same command resumes it"
        )


def ensure_run(config: Any) -> Path:
    """Train ``config`` into its ``out`` folder unless done; resume it if interrupted.

    A finished run asked for another number of steps or epochs is resumed to that length.

    Raises:
        StudyError: If the folder holds a run of another configuration.

    """
    from bionn.experiments import CheckpointError
    from bionn.experiments.train.resume import merge_resumed_config

    run_dir = config.run_dir()
    saved_path = run_dir / "config.json"
    if not saved_path.is_file():
        _train(config)
        return run_dir
    saved = json.loads(saved_path.read_text())
    try:
        merge_resumed_config(saved, config, None)
    except CheckpointError as error:
        raise StudyError(
            f"{run_dir} holds a run of another configuration; nothing was "
            f"overwritten. Use another output folder. ({error})"
        ) from error
    summary = run_dir / "summary.json"
    same_length = all(saved.get(k) == getattr(config, k) for k in ("steps", "epochs"))
    if (
        summary.is_file()
        and json.loads(summary.read_text()).get("status") == "completed"
        and same_length
    ):
        return run_dir
    if (run_dir / "checkpoints").is_dir():
        _train(config, resume=True)
        return run_dir
    if {p.name for p in run_dir.iterdir()} <= _EARLY_FILES:  # crashed before any checkpoint
        for path in run_dir.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()
        _train(config)
        return run_dir
    raise StudyError(f"{run_dir} holds unexpected files and no checkpoint; move it away")


def check_jobs(jobs: Any) -> int:
    """``jobs`` as a count of runs trained at once (>= 1)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise StudyError(f"--jobs must be an int >= 1 (runs trained at once), got {jobs!r}")
    return jobs


EXIT_INTERRUPTED = 130  # the exit status of a command whose run was interrupted (128 + SIGINT)
_study = 0  # in a worker: the process id of the study that started it
_stopping = False  # set in a worker once a run was interrupted: queued runs do not start


def _stop_when_orphaned(study: int) -> None:
    """Interrupt this worker's run (checkpoint, then stop) once its study has died."""
    while os.getppid() == study:
        time.sleep(1.0)
    os.kill(os.getpid(), signal.SIGTERM)


def _start_worker(study: int, threads: int) -> None:
    """Set up a worker process: ``threads`` intra-op threads, a watch on its study."""
    global _study
    import torch

    _study = study
    torch.set_num_threads(threads)
    threading.Thread(target=_stop_when_orphaned, args=(study,), daemon=True).start()


def _train_quietly(config: Any) -> Path:
    """:func:`ensure_run` in a worker process, no stderr.

    Each run writes its usage table and metrics to its own folder; the workers' interleaved
    stderr would only garble the parent's progress bar. A worker whose study died (killed, not
    interrupted) interrupts its run, so no orphan trains on; after an interruption the worker
    starts no further run.
    """
    global _stopping
    if _stopping:
        raise KeyboardInterrupt("the study was interrupted")
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            return ensure_run(config)
    except KeyboardInterrupt:
        _stopping = True
        if os.getppid() != _study:  # the run is checkpointed; no study is left to report to
            os._exit(EXIT_INTERRUPTED)
        raise


def train_runs(
    configs: Sequence[Any], jobs: int = 1, done: Callable[[Any], None] | None = None
) -> None:
    """:func:`ensure_run` every config, ``jobs`` at a time; ``done(config)`` after each.

    With ``jobs > 1`` each run trains in its own process (spawned: safe with CUDA and threads)
    with the machine's cores split between them: on a CPU, small models train faster as
    several one-thread runs than one after another with all threads. Results do not depend
    on ``jobs``: each run is seeded by its config.
    """
    if check_jobs(jobs) == 1 or len(configs) <= 1:
        for config in configs:
            ensure_run(config)
            if done:
                done(config)
        return
    from bionn.experiments.train.runner import warm_evaluation_cache

    warm_evaluation_cache(configs[0])  # runs of one study are scored alike
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")
    import torch

    # ``done`` (scoring) runs here while the workers train: with the workers' thread count, not
    # every core, so its threads do not spin against theirs
    own_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    with ProcessPoolExecutor(
        min(jobs, len(configs)),
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), threads),
    ) as pool:
        try:
            for config, _ in zip(configs, pool.map(_train_quietly, configs), strict=True):
                if done:
                    done(config)
        except BaseException:  # an interrupted or failed run: start no other
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            torch.set_num_threads(own_threads)


def progress_bar(total: int, description: str, enabled: bool) -> Any:
    """The overall bar of a study: one tick per run trained and scored (tqdm, on stderr)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=description,
        unit="run",
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
    )
