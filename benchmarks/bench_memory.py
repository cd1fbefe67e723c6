"""Memory of windowed layers against the plain torch layer.

Question: what does the window cost in memory? Target (issue 9): the training state of
MouseLinear(4096, 4096) (weight, gradient, Adam state and window) <= 1.07x the plain layer's;
parameters and Adam state exactly 1.00x (the seed's PyTorch file doubled the parameters). The
window is one bool buffer: no float copy of it is kept. Also listed: the saved ``state_dict``.
Each measured after one Adam step; the plain layer is measured in the same run.

Run: ``.venv/bin/python benchmarks/bench_memory.py``
"""

from __future__ import annotations

import io

import torch
from torch import nn

import bionn
from timing import print_table

TARGET = 1.07  # training state ratio


def tensor_bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def measure(layer: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Bytes of parameters, gradients, Adam state, buffers, their total, and the state_dict."""
    optimizer = torch.optim.Adam(layer.parameters())
    layer(x).square().mean().backward()
    optimizer.step()
    state = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    items = {
        "parameters": tensor_bytes(layer.parameters()),
        "gradients": tensor_bytes(p.grad for p in layer.parameters() if p.grad is not None),
        "adam state": tensor_bytes(state),
        "buffers (window)": tensor_bytes(layer.buffers()),
        # anything else the layer holds as a tensor attribute (a cache would show here)
        "other tensors": tensor_bytes(v for v in vars(layer).values() if torch.is_tensor(v)),
    }
    items["training state"] = sum(items.values())
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    items["state_dict file"] = buffer.getbuffer().nbytes
    return items


def main() -> None:
    torch.manual_seed(0)
    cases = {
        "conv 256->256 3x3": (
            nn.Conv2d(256, 256, 3, padding=1),
            bionn.MouseConv2d(256, 256, 3, padding=1, usage=0.35),
            torch.randn(2, 256, 8, 8),
        ),
        "linear 4096->4096": (
            nn.Linear(4096, 4096),
            bionn.MouseLinear(4096, 4096, usage=0.35),
            torch.randn(4, 4096),
        ),
        "linear 4096->4096 gaussian": (
            nn.Linear(4096, 4096),
            bionn.SchizoLinear(4096, 4096, usage=0.35, form="gaussian"),
            torch.randn(4, 4096),
        ),
    }
    rows = []
    for name, (plain, windowed, x) in cases.items():
        base, ours = measure(plain, x), measure(windowed, x)
        for item in base:
            ratio = f"{ours[item] / base[item]:.3f}x" if base[item] else "-"
            binary = "gaussian" not in name  # the real-valued window is a float buffer
            target = f"<= {TARGET:.2f}x" if item == "training state" and binary else ""
            rows.append(
                (
                    name,
                    item,
                    f"{base[item] / 2**20:.2f}",
                    f"{ours[item] / 2**20:.2f}",
                    ratio,
                    target,
                )
            )
    print_table(("layer", "item", "plain MiB", "windowed MiB", "ratio", "target"), rows)


if __name__ == "__main__":
    main()
