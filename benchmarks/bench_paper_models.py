"""The mouse paper's models at 64x64: training images/s and peak memory, standard vs mouse.

For the DCGAN (batch 32) and the DDIM (batch 64), both variants, in fp32, bf16 (autocast) and
compiled (fp32 + ``torch.compile``) modes, through the same trainers ``bionn train`` uses (the
DDIM trains in micro-batches on a CPU; mode ``unsplit`` times it with the batch in one piece); then
DDIM sampling images/s (20 steps, EMA-free eval model with frozen windows). Each measurement runs
in its own process, so that peak memory and compilation caches belong to it alone. A step is
timed alone; the figure is the median of the steps after the warm-up. Peak memory: CUDA's
``max_memory_allocated``; on the CPU the growth of the process's peak RSS over its RSS before the
model was built.

    python benchmarks/bench_paper_models.py                 # everything: tens of minutes on a CPU
    python benchmarks/bench_paper_models.py --quick         # smoke run: tiny models, seconds
    python benchmarks/bench_paper_models.py --models ddim --modes fp32,bf16 --steps 5

``benchmarks/original_side.py`` times the original Keras scripts the same way (README.md).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from typing import Any

from original_side import add_arguments, original_job, rss_mb, run_in_child

PUBLISHED_BATCH = {"gan": 32, "ddim": 64}
MODES = ("fp32", "bf16", "compile", "unsplit")  # unsplit: DDIM fp32 in one piece
SAMPLING_STEPS = 20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _trainer(job: dict[str, Any]) -> Any:
    import torch

    from bionn.experiments import build_model, make_config
    from bionn.experiments.data import ImageData
    from bionn.experiments.ddp import Dist, resolve_device
    from bionn.experiments.train.base import Context
    from bionn.experiments.train.ddim import DDIMTrainer
    from bionn.experiments.train.gan import GANTrainer

    mode, kind = job["mode"], job["kind"]
    unsplit = {"micro_batch": job["batch"]} if mode == "unsplit" else {}  # the batch at once
    config = make_config(
        kind,
        variant=job["variant"],
        batch_size=job["batch"],
        channels=3,
        image_size=job["size"],
        precision="bf16" if mode == "bf16" else "fp32",
        compile=mode == "compile",
        **job["options"],
        **unsplit,
    )
    images = torch.randint(0, 256, (job["batch"], 3, job["size"], job["size"]), dtype=torch.uint8)
    data = ImageData(images, torch.zeros(job["batch"], dtype=torch.long), 10, "random")
    model = build_model(config, channels=3, classes=10)
    trainer_class = GANTrainer if kind == "gan" else DDIMTrainer
    place = Dist(device=resolve_device(job["device"]))
    return trainer_class(Context(config, place), model, data, None), images, place.device


def _sampler(job: dict[str, Any]) -> Any:
    import torch

    import bionn
    from bionn.experiments import build
    from bionn.experiments.ddp import resolve_device

    device = resolve_device(job["device"])
    ddim = build("ddim", job["variant"], image_size=job["size"], channels=3, **job["options"])
    ddim.to(device, memory_format=torch.channels_last).eval()
    for layer in ddim.modules():
        if isinstance(layer, bionn.WindowedLayer):
            layer.freeze()  # inference: the masked weight stored once
    return ddim, device


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    """Time one configuration in this process; return images/s and peak memory."""
    import torch
    import torch._dynamo  # noqa: F401  (the trainers import it lazily: not the model's memory)

    import bionn.experiments.train.gan  # noqa: F401

    torch.manual_seed(0)
    baseline = rss_mb()
    if job["kind"] == "sampling":
        ddim, device = _sampler(job)

        def step() -> None:
            ddim.sample(job["batch"], steps=job["sampling_steps"])
    else:
        trainer, images, device = _trainer(job)
        batch = (
            images.to(device).float() / 255,
            torch.zeros(len(images), dtype=torch.long, device=device),
        )

        def step() -> None:
            trainer.train_step(*batch)

    cuda = device.type == "cuda"
    times = []
    for index in range(job["warmup"] + job["steps"]):
        start = time.perf_counter()
        step()
        if cuda:
            torch.cuda.synchronize()
        if index >= job["warmup"]:
            times.append(time.perf_counter() - start)
    median = statistics.median(times)
    peak = torch.cuda.max_memory_allocated() / 2**20 if cuda else _peak_rss_mb() - baseline
    return {**job, "images_per_s": job["batch"] / median, "seconds": median, "peak_mb": peak}


def _jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    size = 32 if args.quick else 64
    options = {"gan": {"width": 16, "disc_width": 8}, "ddim": {"width": 8, "levels": 3}}
    common = {"device": args.device, "size": size, "steps": args.steps, "warmup": args.warmup}
    jobs = []
    for kind in args.models:
        batch = args.batch or (4 if args.quick else PUBLISHED_BATCH[kind])
        for variant in ("standard", "mouse"):
            if args.original:  # right before bionn's runs of the same model: same load
                jobs.append(original_job(kind, variant, args))
            for mode in args.modes:
                if mode == "unsplit" and kind != "ddim":  # only the DDIM trains in micro-batches
                    continue
                jobs.append(
                    {
                        **common,
                        "kind": kind,
                        "variant": variant,
                        "mode": mode,
                        "batch": batch,
                        "options": options[kind] if args.quick else {},
                    }
                )
    if "ddim" in args.models and args.sampling:
        for variant in ("standard", "mouse"):
            jobs.append(
                {
                    **common,
                    "kind": "sampling",
                    "variant": variant,
                    "mode": "fp32",
                    "batch": args.batch or (4 if args.quick else PUBLISHED_BATCH["ddim"]),
                    "sampling_steps": 2 if args.quick else SAMPLING_STEPS,
                    "options": options["ddim"] if args.quick else {},
                }
            )
    return jobs


def _in_child(job: dict[str, Any], threads: int) -> dict[str, Any]:
    if "scripts" in job:
        return run_in_child(job)
    command = [sys.executable, __file__, "--job", json.dumps(job), "--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["no output"]
        return {**job, "error": lines[-1]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _ratio(value: dict[str, Any], reference: dict[str, Any], key: str) -> str:
    if key not in value or not reference.get(key):
        return ""
    return f"{value[key] / reference[key]:.2f}"


def print_results(results: list[dict[str, Any]]) -> None:
    """Table of images/s and peak memory, with ratios to fp32, the original and standard."""
    from timing import print_table

    index = {(r["kind"], r["variant"], r["mode"]): r for r in results}
    rows = []
    for r in results:
        key = (r["kind"], r["variant"], r["mode"])
        if "error" in r:
            rows.append([*key, r["batch"], "error", "", "", "", "", r["error"][:70]])
            continue
        fp32 = index.get((r["kind"], r["variant"], "fp32"), {}) if r["mode"] != "original" else {}
        original = index.get((r["kind"], r["variant"], "original"), {})
        standard = index.get((r["kind"], "standard", r["mode"]), {})
        rows.append(
            [
                *key,
                r["batch"],
                f"{r['images_per_s']:.2f}",
                f"{r['peak_mb']:.0f}",
                _ratio(r, fp32, "images_per_s"),
                _ratio(r, original, "images_per_s"),
                _ratio(r, standard, "peak_mb"),
                "",
            ]
        )
    print_table(
        [
            "model",
            "variant",
            "mode",
            "batch",
            "images/s",
            "peak MB",
            "x fp32",
            "x original",
            "mem / standard",
            "note",
        ],
        rows,
    )


def main() -> None:
    """Run every configuration in a child process and print the table (and JSON)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument(
        "--models",
        type=lambda s: s.split(","),
        default=["gan", "ddim"],
        help="comma list of gan, ddim",
    )
    parser.add_argument(
        "--modes",
        type=lambda s: s.split(","),
        default=None,
        help=f"comma list of {', '.join(MODES)} (quick: fp32,bf16)",
    )
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 10)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed first steps (2)")
    parser.add_argument("--batch", type=int, default=0, help="0: the published 32 / 64")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--sampling", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--quick", action="store_true", help="tiny models at 32x32: a smoke run")
    parser.add_argument(
        "--original",
        metavar="DIR",
        help="also time the original Keras scripts in DIR (original_side.py)",
    )
    parser.add_argument("--job", help=argparse.SUPPRESS)
    add_arguments(parser)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.job:
        print(json.dumps(run_job(json.loads(args.job))))
        return
    args.modes = args.modes or (["fp32", "bf16"] if args.quick else list(MODES))
    args.steps = args.steps or (2 if args.quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    results = []
    for job in _jobs(args):
        results.append(_in_child(job, args.threads))
        r = results[-1]
        print(
            f"  {r['kind']} {r['variant']} {r['mode']}: {r.get('error', '')}"
            f"{r.get('images_per_s', float('nan')):.2f} images/s",
            flush=True,
        )
    print_results(results)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
