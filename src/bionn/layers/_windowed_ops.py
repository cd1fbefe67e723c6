"""Linear and convolution with a windowed weight, saving no masked copy for backward.

``F.linear(x, torch.where(window, weight, 0))`` is correct but autograd keeps the masked weight
alive from forward to backward (one weight-sized tensor per layer) and, for large weights, every
fresh weight-sized temporary costs page faults. The functions here take ``weight`` and
``window`` themselves: backward rebuilds the masked weight from the parameter and the window
(both already in memory), and masks the weight gradient where it is made.

A linear weight is processed in row blocks of at most :data:`BLOCK_ELEMENTS` entries, so the
temporaries stay small and are reused by the allocator, and each block multiplies only the
columns its window reaches (:func:`linear_blocks`): the band and mouse windows reach about half
to two thirds of them, so the windowed layer does that much less work than the plain one.
Results equal the unblocked ops up to float summation order.

Autocast is honoured as for ``F.linear`` / ``F.conv2d``: under an enabled autocast the inputs
are cast to its lower-precision dtype here (and again in backward, which autocast does not
reach), and the gradients come back in the dtypes of the inputs. Double backward
(``create_graph=True``) runs the same formulas with differentiable ops.

Under ``torch.func`` transforms (``grad``, ``vmap``, ...) and ``torch.export`` the same maths
runs as plain differentiable ops on ``apply_window(weight, window)`` (:func:`_traced`): those
need composite ops, not an old-style autograd function; the masked gradient follows from
``torch.where``. Conv layers accept unbatched ``(C, H, W)`` input, as ``nn.Conv2d`` does.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "BLOCK_ELEMENTS",
    "LinearBlocks",
    "apply_window",
    "window_like",
    "linear_blocks",
    "windowed_convolution",
    "windowed_linear",
]

# Row blocks of a linear weight (4 MiB in float32): small enough for the allocator to keep and
# for the cache to hold the masked block while the matrix product reads it.
BLOCK_ELEMENTS = 2**20

# ``(rows, columns)`` slices of a linear weight: the row blocks and the columns each reaches.
LinearBlocks = tuple[tuple[slice, slice], ...]


def window_like(window: Tensor, weight: Tensor) -> Tensor:
    """``window`` ready to meet ``weight``: sharded as a DTensor weight (FSDP2) is, else itself.

    Every rank holds the whole window, so each takes its own shard locally, with no communication.
    """
    if not torch.distributed.is_available():
        return window
    from torch.distributed.tensor import DTensor, distribute_tensor

    if not isinstance(weight, DTensor) or isinstance(window, DTensor):
        return window
    full = window.expand(weight.shape).contiguous()
    return distribute_tensor(full, weight.device_mesh, weight.placements, src_data_rank=None)


def apply_window(weight: Tensor, window: Tensor) -> Tensor:
    """``weight`` with the window applied (bool: selected, real: scaled), in ``weight``'s dtype."""
    window = window_like(window, weight)
    if window.dtype == torch.bool:
        return torch.where(window, weight, 0.0)
    return weight * window.to(weight.dtype)


def _apply_window_(tensor: Tensor, window: Tensor) -> Tensor:
    """Apply the window to ``tensor`` in place (``tensor`` is ours: a fresh gradient)."""
    if window.dtype == torch.bool:
        return torch.where(window, tensor, tensor.new_zeros(()), out=tensor)
    return tensor.mul_(window.to(tensor.dtype))


def _compute_dtype(input: Tensor) -> torch.dtype:
    """The dtype ``F.linear`` / ``F.conv2d`` would compute in: autocast's, if it applies."""
    device_type = input.device.type
    if device_type in ("cpu", "cuda", "xpu", "mps") and input.dtype != torch.float64:
        if torch.is_autocast_enabled(device_type):
            return torch.get_autocast_dtype(device_type)
    return input.dtype


def linear_blocks(window: np.ndarray) -> LinearBlocks:
    """Row blocks of an ``(out, in)`` linear window, each with the column range it reaches.

    A block's columns run from its first to its last non-zero column (empty if it has none),
    so a block multiplies only inputs its window connects.

    Example:
        >>> window = np.zeros((4, 6), dtype=bool)
        >>> window[:2, 1:3] = True
        >>> window[2:, 4] = True
        >>> linear_blocks(window)
        ((slice(0, 4, None), slice(1, 5, None)),)
    """
    n_out, n_in = window.shape
    rows = max(1, BLOCK_ELEMENTS // max(1, n_in))
    blocks = []
    for start in range(0, n_out, rows):
        reached = np.flatnonzero(window[start : start + rows].any(axis=0))
        columns = slice(int(reached[0]), int(reached[-1]) + 1) if reached.size else slice(0, 0)
        blocks.append((slice(start, min(start + rows, n_out)), columns))
    return tuple(blocks)


class _WindowedLinear(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        window: Tensor,
        blocks: LinearBlocks,
        dtype: torch.dtype,
    ) -> Tensor:
        ctx.save_for_backward(input, weight, bias, window)
        ctx.blocks, ctx.dtype = blocks, dtype
        x = input.reshape(-1, input.shape[-1]).to(dtype)
        result = x.new_empty((*input.shape[:-1], weight.shape[0]))  # not a view: in-place ops
        out = result.view(-1, weight.shape[0])  # may follow (ReLU(inplace=True))
        for rows, columns in blocks:
            block = apply_window(weight[rows, columns], window[rows, columns]).to(dtype)
            if bias is None:
                torch.mm(x[:, columns], block.t(), out=out[:, rows])
            else:
                torch.addmm(bias[rows].to(dtype), x[:, columns], block.t(), out=out[:, rows])
        return result

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        input, weight, bias, window = ctx.saved_tensors
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        x = input.reshape(-1, input.shape[-1]).to(ctx.dtype)
        grad = grad_output.reshape(-1, grad_output.shape[-1]).to(ctx.dtype)
        grad_bias = grad.sum(0).to(bias.dtype) if needs_bias else None
        if torch.is_grad_enabled():  # double backward: the same formulas, differentiable
            masked = apply_window(weight, window).to(ctx.dtype)
            grad_input = (grad @ masked).view_as(input) if needs_input else None
            grad_weight = apply_window(grad.t() @ x, window) if needs_weight else None
            return grad_input, grad_weight, grad_bias, None, None, None
        grad_input = torch.zeros_like(x) if needs_input else None
        grad_weight = torch.empty_like(weight, dtype=ctx.dtype) if needs_weight else None
        for rows, columns in ctx.blocks:
            if grad_input is not None:
                block = apply_window(weight[rows, columns], window[rows, columns]).to(ctx.dtype)
                grad_input[:, columns].addmm_(grad[:, rows], block)
            if grad_weight is not None:
                grad_weight[rows, : columns.start].zero_()  # columns the window never reaches
                grad_weight[rows, columns.stop :].zero_()
                block_grad = grad_weight[rows, columns]
                torch.mm(grad[:, rows].t(), x[:, columns], out=block_grad)
                _apply_window_(block_grad, window[rows, columns])
        return (
            grad_input.view(input.shape).to(input.dtype) if grad_input is not None else None,
            grad_weight.to(weight.dtype) if grad_weight is not None else None,
            grad_bias,
            None,
            None,
            None,
        )


def windowed_linear(
    input: Tensor, weight: Tensor, window: Tensor, bias: Tensor | None, blocks: LinearBlocks
) -> Tensor:
    """``F.linear(input, apply_window(weight, window), bias)`` without keeping the masked weight.

    ``blocks`` is :func:`linear_blocks` of the window.

    Example:
        >>> import torch
        >>> x, w = torch.randn(3, 5), torch.randn(4, 5)
        >>> window = torch.rand(4, 5) < 0.5
        >>> out = windowed_linear(x, w, window, None, linear_blocks(window.numpy()))
        >>> torch.allclose(out, x @ (w * window).t())
        True
    """
    if _traced():
        return torch.nn.functional.linear(input, apply_window(weight, window), bias)
    return _WindowedLinear.apply(input, weight, bias, window, blocks, _compute_dtype(input))


def _traced() -> bool:
    """Whether ``torch.func`` transforms or ``torch.export`` trace this call."""
    return bool(torch._C._are_functorch_transforms_active()) or torch.compiler.is_exporting()


class _WindowedConvolution(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx: Any,
        input: Tensor,
        weight: Tensor,
        bias: Tensor | None,
        window: Tensor,
        dtype: torch.dtype,
        arguments: tuple[Any, ...],
    ) -> Tensor:
        ctx.save_for_backward(input, weight, bias, window)
        ctx.dtype, ctx.arguments = dtype, arguments
        masked = apply_window(weight, window).to(dtype)
        bias = bias.to(dtype) if bias is not None else None
        return torch.ops.aten.convolution(input.to(dtype), masked, bias, *arguments)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple[Tensor | None, ...]:
        input, weight, bias, window = ctx.saved_tensors
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad[:3]
        needs_bias = needs_bias and bias is not None
        grad_output, x = grad_output.to(ctx.dtype), input.to(ctx.dtype)
        grad_input = grad_weight = grad_bias = None
        if needs_input:  # the masked weight lives only for this call, not beside grad_weight
            masked = apply_window(weight, window).to(ctx.dtype)
            grad_input = torch.ops.aten.convolution_backward(
                grad_output, x, masked, None, *ctx.arguments, [True, False, False]
            )[0].to(input.dtype)
            del masked
        if needs_weight or needs_bias:  # the weight's values do not enter these gradients
            _, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
                grad_output,
                x,
                weight.to(ctx.dtype),
                list(bias.shape) if needs_bias else None,
                *ctx.arguments,
                [False, needs_weight, needs_bias],
            )
        if grad_weight is not None:
            grad_weight = (
                apply_window(grad_weight, window)
                if torch.is_grad_enabled()
                else _apply_window_(grad_weight, window)
            ).to(weight.dtype)
        if grad_bias is not None:
            grad_bias = grad_bias.to(bias.dtype)
        return grad_input, grad_weight, grad_bias, None, None, None


def windowed_convolution(
    input: Tensor,
    weight: Tensor,
    window: Tensor,
    bias: Tensor | None,
    stride: list[int],
    padding: list[int],
    dilation: list[int],
    transposed: bool,
    output_padding: list[int],
    groups: int,
) -> Tensor:
    """``aten.convolution`` (conv or transposed conv) with the windowed weight; int padding.

    Example:
        >>> import torch
        >>> from torch.nn import functional as F
        >>> x, w = torch.randn(1, 4, 6, 6), torch.randn(8, 4, 3, 3)
        >>> window = torch.rand(8, 4, 3, 3) < 0.5
        >>> out = windowed_convolution(x, w, window, None, [1, 1], [1, 1], [1, 1], False,
        ...                            [0, 0], 1)
        >>> torch.allclose(out, F.conv2d(x, w * window, padding=1), atol=1e-6)
        True
    """
    if input.dim() == weight.dim() - 1:  # unbatched (C, H, W), as nn.Conv2d accepts
        batched = windowed_convolution(
            input.unsqueeze(0),
            weight,
            window,
            bias,
            stride,
            padding,
            dilation,
            transposed,
            output_padding,
            groups,
        )
        return batched.squeeze(0)
    arguments = (stride, padding, dilation, transposed, output_padding, groups)
    if _traced():
        return torch.ops.aten.convolution(input, apply_window(weight, window), bias, *arguments)
    return _WindowedConvolution.apply(input, weight, bias, window, _compute_dtype(input), arguments)
