"""Memory of windowed layers against the plain torch layer.

Question: does the window cost parameters or optimiser state? Target (issue 2): parameter bytes
and Adam state bytes exactly 1.00x the plain layer's (the seed's PyTorch file doubled the
parameters). Also listed: the window buffer, the float copy of a bool window kept for the
multiply, and the saved ``state_dict`` size, each after one Adam step.

Run: ``.venv/bin/python benchmarks/bench_memory.py``
"""

from __future__ import annotations

import io

import torch
from torch import nn

import bionn
from timing import print_table


def tensor_bytes(tensors) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def measure(layer: nn.Module, x: torch.Tensor) -> dict[str, int]:
    """Bytes of parameters, Adam state, buffers, kept caches and the saved state_dict."""
    optimizer = torch.optim.Adam(layer.parameters())
    layer(x).square().mean().backward()
    optimizer.step()
    state = [v for s in optimizer.state.values() for v in s.values() if torch.is_tensor(v)]
    caches = [getattr(layer, name, None) for name in ("_window_cache", "_eval_cache")]
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    return {
        "parameters": tensor_bytes(layer.parameters()),
        "adam state": tensor_bytes(state),
        "buffers": tensor_bytes(layer.buffers()),
        "caches": tensor_bytes(c[1] for c in caches if c is not None),
        "state_dict file": buffer.getbuffer().nbytes,
    }


def main() -> None:
    torch.manual_seed(0)
    cases = {
        "conv 256->256 3x3": (nn.Conv2d(256, 256, 3, padding=1),
                              bionn.MouseConv2d(256, 256, 3, padding=1, usage=0.35),
                              torch.randn(2, 256, 8, 8)),
        "linear 4096->4096": (nn.Linear(4096, 4096), bionn.MouseLinear(4096, 4096, usage=0.35),
                              torch.randn(4, 4096)),
        "linear 4096->4096 gaussian": (nn.Linear(4096, 4096),
                                       bionn.SchizoLinear(4096, 4096, usage=0.35, form="gaussian"),
                                       torch.randn(4, 4096)),
    }  # fmt: skip
    rows = []
    for name, (plain, windowed, x) in cases.items():
        base, ours = measure(plain, x), measure(windowed, x)
        for item in base:
            ratio = f"{ours[item] / base[item]:.2f}x" if base[item] else "-"
            rows.append((name, item, f"{base[item] / 2**20:.2f}", f"{ours[item] / 2**20:.2f}",
                         ratio))  # fmt: skip
    print_table(("layer", "item", "plain MiB", "windowed MiB", "ratio"), rows)


if __name__ == "__main__":
    main()
