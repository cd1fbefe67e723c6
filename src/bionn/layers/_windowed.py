"""The mixin shared by every PyTorch layer: window buffer, masked weight, counting, checks.

A windowed layer is a plain ``nn.Linear`` / ``nn.Conv2d`` / ``nn.ConvTranspose2d`` plus a window
recipe (:mod:`bionn.recipes`). Its forward computes ``weight`` masked by the window on every call,
so no write to ``weight`` (through ``.data``, ``load_state_dict``, an EMA's ``_foreach_lerp_``)
can outrun it; :meth:`WindowedLayer.freeze` is the explicit inference fast path. The window is a
buffer (bool for binary forms, float for 'gaussian'), never a parameter, and a function of the
recipe: it is rebuilt when it leaves the meta device (``to_empty``, whatever weight init follows)
and by ``reset_parameters``, so layers made on the meta device get the same window as layers
built directly. A window that keeps no weight is refused (the seed's classes warn), and
``torch.jit.script`` is refused with the ways out. A conv's window is stored once per channel
pair, shaped ``(y, x, 1, 1)``, and broadcasts over the kernel (for 'random' and 'individual',
which draw every weight on its own, it has the weight's shape): a 3x3 conv's window costs a
ninth of a full-size bool mask.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import torch
from torch import Tensor, nn

from bionn import recipes
from bionn.layer_arguments import MouseArguments, SchizoArguments
from bionn.layers._windowed_ops import apply_window, window_like
from bionn.windows import BINARY_FORMS, PER_WEIGHT_FORMS, RANDOM_FORMS, Window, WindowSpec

__all__ = ["WindowedLayer", "MouseLayer", "SchizoLayer", "plain_arguments", "torch_seed"]

T = TypeVar("T")

if TYPE_CHECKING:  # every windowed layer is a torch layer: the mixin may use nn.Module's API
    _Module = nn.Module
else:  # at run time the torch layer after the mixin in the MRO provides it
    _Module = object


def torch_seed() -> int:
    """A fresh seed for random forms from torch's RNG (reproducible after ``torch.manual_seed``)."""
    return int(torch.randint(2**31 - 1, (), device="cpu").item())  # cpu: works under meta too


class WindowedLayer(_Module):
    """Mixin for ``nn.Module`` layers with a ``weight`` whose first two dims are (y, x).

    Subclasses put it before the torch layer in their bases and give :meth:`_channel_axes`
    (and :meth:`_window_shape` where the layer is not a conv). ``__init__`` resolves the recipe
    before the torch layer allocates anything, so absurd sizes fail at once.
    """

    weight: Tensor
    window: Tensor
    window_spec: WindowSpec
    usage: float
    halfbandwidth: float
    scale_init: bool
    # Where the grids of the x and y axes get their names (by data flow; docs/spec.md's axis table).
    _grid_names = ("in_grid", "out_grid")
    # Set by ``freeze``: ``weight`` already holds the masked weight.
    frozen: bool = False
    _requires_grad_before_freeze: bool = True
    # A window keeping no weight raises; the seed's classes (bionn.seed_defaults) warn instead.
    _refuse_empty_window: bool = True

    # -- construction -------------------------------------------------------------------------

    # The hooks of the clean constructors' mixins (bionn.layer_arguments).
    _draw_seed = staticmethod(torch_seed)

    def _make_recipe(self, make: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``make(*args, **kwargs)``: recipe errors reach torch users as they are."""
        return make(*args, **kwargs)

    def _record_arguments(self, **arguments: Any) -> None:
        """Nothing to record: a torch layer's attributes (``window_spec`` ...) hold them."""

    def _channel_axes(self) -> tuple[int, int]:
        """``(n_x, n_y)`` of the window matrix; see docs/spec.md's axis table."""
        raise NotImplementedError

    def __init__(
        self, *args: Any, recipe: recipes.Recipe, scale_init: bool = True, **kwargs: Any
    ) -> None:
        """The parent layer's arguments, exactly as it takes them, then ours (keyword-only).

        Args:
            *args: The parent's positional arguments.
            recipe: The window recipe (:mod:`bionn.recipes`; a ``WindowSpec`` is one).
            scale_init: Scale the initial weight by ``1 / usage`` as the original did.
            **kwargs: The parent's keyword arguments; ``device='meta'`` defers the window's
                values to ``to_empty``.
        """
        bound = inspect.signature(self.plain_class().__init__).bind(None, *args, **kwargs)
        bound.apply_defaults()
        arguments = {name: value for name, value in bound.arguments.items() if name != "self"}
        n_x, n_y, kernel_shape = self._window_shape(arguments)
        # resolved before the parent allocates anything: absurd sizes fail at once
        layer = type(self).__name__
        spec = recipes.resolve(recipe, n_x, n_y, kernel_shape, layer=layer)
        # warnings are the seed classes': caller -> their __init__ -> Windowed*'s -> here -> recipes
        recipes.warn_dead_channels(n_x, n_y, spec, layer, stacklevel=5)
        super().__init__(**arguments)
        built = self._install_window(spec, scale_init)
        recipes.check_window_kept(
            built,
            recipe,
            n_x,
            n_y,
            kernel_shape,
            layer=layer,
            refuse=self._refuse_empty_window,
            stacklevel=5,
        )

    def _window_shape(self, arguments: dict[str, Any]) -> tuple[int, int, tuple[int, ...]]:
        """``(n_x, n_y, kernel_shape)`` from a (transposed) conv's arguments, made ints in place."""
        in_channels, out_channels, groups = recipes.check_groups(
            arguments["in_channels"], arguments["out_channels"], arguments["groups"]
        )
        arguments.update(in_channels=in_channels, out_channels=out_channels, groups=groups)
        size = arguments["kernel_size"]
        sizes = size if isinstance(size, Sequence) else (size, size)
        kernel_shape = tuple(recipes.as_count("kernel_size", k) for k in sizes)
        if self._grid_names[0] == "in_grid":
            return in_channels // groups, out_channels, kernel_shape
        return out_channels // groups, in_channels, kernel_shape  # docs/spec.md: x is the output

    def _install_window(self, spec: WindowSpec, scale_init: bool) -> Window:
        self.window_spec = spec
        self.scale_init = scale_init
        weight = self.weight
        dtype = torch.bool if self.is_binary else weight.dtype
        per_pair = tuple(weight.shape[:2]) + (1,) * (weight.dim() - 2)
        shape = weight.shape if spec.form in PER_WEIGHT_FORMS else per_pair
        window = torch.empty(shape, dtype=dtype, device=weight.device)
        self.register_buffer("window", window)
        return self._build_window()

    def _apply(self, fn: Callable[[Tensor], Tensor], recurse: bool = True) -> WindowedLayer:
        """The parent's ``_apply``; a window it takes off the meta device is rebuilt at once.

        ``to_empty(device=...)`` leaves the buffer uninitialised, and FSDP2 or large-model code
        then run their own weight init, never ``reset_parameters``: the window, a function of the
        recipe, is filled here whatever init follows.
        """
        was_meta = self.window.is_meta
        super()._apply(fn, recurse)
        if was_meta and not self.window.is_meta:
            self._fill_window()
        return self

    def reset_parameters(self) -> None:
        """The parent's initialisation, then the window rebuilt and scaled (docs/spec.md)."""
        super().reset_parameters()  # type: ignore[misc]  # the torch layer's, after the mixin
        if "window" in self._buffers:  # not in the parent's __init__
            self._build_window()

    def _recipe_window(self) -> Window:
        """The window of this layer's recipe, built afresh."""
        n_x, n_y = self._channel_axes()
        return self.window_spec.build(n_x, n_y, tuple(self.weight.shape[2:]))

    @torch.no_grad()
    def _fill_window(self) -> Window:
        """Fill the window buffer from the recipe (never from its memory); meta stays empty."""
        built = self._recipe_window()
        self.usage, self.halfbandwidth = built.usage, built.halfbandwidth
        if not self.window.is_meta:
            self.window.copy_(_broadcastable(built.values, self.window.dim()))
        return built

    @torch.no_grad()
    def _build_window(self) -> Window:
        """Fill the window from the recipe, then scale the weight."""
        built = self._fill_window()
        if self.scale_init and self.is_binary:  # docs/spec.md: 'gaussian' is not pre-scaled
            ones = int(built.values.sum())
            window = window_like(self.window, self.weight)  # sharded like an FSDP2 weight
            self.weight.mul_(window).mul_(built.values.size / ones if ones else 1.0)
        return built

    # -- forward ------------------------------------------------------------------------------

    def expanded_window(self) -> Tensor:
        """The window at the weight's shape: a view of the stored one, no copy.

        Index with it (``weight[layer.expanded_window()]``); in arithmetic ``window`` broadcasts.
        """
        return self.window.expand_as(self.weight)

    @property
    def is_binary(self) -> bool:
        """Whether the window is a 0/1 mask (every form but 'gaussian')."""
        return self.window_spec.form in BINARY_FORMS

    def masked_weight(self) -> Tensor:
        """The effective weight of forward, computed from ``weight`` on every call.

        Binary windows select with ``torch.where`` (no float copy of the bool window); a frozen
        layer's ``weight`` is already masked. Forward itself goes through
        :mod:`bionn.layers._windowed_ops`, which keeps no masked copy for backward.
        """
        return self.weight if self.frozen else apply_window(self.weight, self.window)

    # -- inference and export ----------------------------------------------------------------

    @torch.no_grad()
    def freeze(self) -> WindowedLayer:
        """Inference fast path: store the masked weight in ``weight`` once; forward masks no more.

        ``weight`` stops requiring grad. For binary forms :meth:`unfreeze` undoes this exactly
        (the masked weight is a valid weight for the same window). For 'gaussian' the real-valued
        window is baked into ``weight`` and cannot be taken out again: freezing such a layer is
        inference-only, and a ``state_dict`` saved while frozen must be loaded into a frozen
        layer. Loading a checkpoint into a frozen layer masks the loaded weight again.

        Returns:
            The layer itself.
        """
        if not self.frozen:
            self.weight.copy_(apply_window(self.weight, self.window))
            self._requires_grad_before_freeze = self.weight.requires_grad
            self.weight.requires_grad_(False)
            self.frozen = True
        return self

    def unfreeze(self) -> WindowedLayer:
        """Undo :meth:`freeze` (binary forms only); the layer trains again.

        Raises:
            ValueError: For a frozen 'gaussian' layer, whose window cannot be divided out.
        """
        if self.frozen:
            if not self.is_binary:
                raise ValueError(
                    "a frozen 'gaussian' layer cannot be unfrozen: its real-valued window is "
                    "baked into the weight; reload weights saved before freeze()"
                )
            self.weight.requires_grad_(self._requires_grad_before_freeze)
            self.frozen = False
        return self

    def __prepare_scriptable__(self) -> nn.Module:
        """Refuse ``torch.jit.script`` (which calls this first) with the ways out.

        Raises:
            RuntimeError: Always: TorchScript can compile neither the window's recipe nor the
                custom autograd function of forward.
        """
        raise RuntimeError(
            f"{type(self).__name__}: torch.jit.script cannot compile windowed layers (their "
            "forward runs a custom autograd function and they hold a window recipe); use "
            "torch.export.export(model, args) or torch.compile(model), which support them, or "
            "script a copy whose windowed layers are replaced by layer.to_plain() (a plain "
            "layer holding the masked weight)"
        )

    @classmethod
    def plain_class(cls) -> type[nn.Module]:
        """Return the torch layer this class windows (``nn.Linear``, ``nn.Conv2d`` ...)."""
        return next(
            c for c in cls.__mro__ if issubclass(c, nn.Module) and not issubclass(c, WindowedLayer)
        )

    @torch.no_grad()
    def to_plain(self) -> nn.Module:
        """Return a plain copy of the parent class whose weight is the masked weight.

        Same hyper-parameters, device, dtype, bias, training mode and ``requires_grad``; the
        result owns its own tensors.
        """
        plain_class = self.plain_class()
        plain = plain_class(**plain_arguments(self, plain_class))
        # nn.Module types attributes it does not declare Tensor | Module: these are tensors
        plain.weight.copy_(self.masked_weight())  # type: ignore[operator]
        if self.bias is not None:
            plain.bias.copy_(self.bias)  # type: ignore[operator, arg-type]
        for name, parameter in plain.named_parameters():
            parameter.requires_grad_(getattr(self, name).requires_grad)
        if self.frozen:  # the plain copy is an ordinary layer: it trains as before the freeze
            plain.weight.requires_grad_(self._requires_grad_before_freeze)
        return plain.train(self.training)

    # -- counting (seed-compatible names) -----------------------------------------------------

    @property
    def form(self) -> str:
        """The window form."""
        return self.window_spec.form

    def get_num_weights(self) -> int:
        """Window size, spatial kernel dims included."""
        return self.weight.numel()

    def get_num_zeros(self) -> int:
        """Weights the window removes (for 'gaussian': the removed share of the window size)."""
        size = self.weight.numel()
        if self.is_binary:
            return size - int(self.window.count_nonzero()) * (size // self.window.numel())
        return round(size * (1.0 - self.usage))

    def get_reduced_ratio(self) -> float:
        """Fraction of weights removed: ``1 - usage``."""
        return 1.0 - self.usage

    def get_halfbandwidth(self) -> float:
        """The band half-width of 'diagonal' / 'gaussian' windows (0 for other forms)."""
        return self.halfbandwidth

    def _window_repr(self) -> str:
        spec = self.window_spec
        text = f"form={spec.form!r}, usage={self.usage:.4f}"
        if spec.form == "2d":
            n_x, n_y = self._channel_axes()
            text += (
                f", radius={spec.radius:.4g}, x_grid=({n_x // spec.x_width}, {spec.x_width})"
                f", y_grid=({n_y // spec.y_width}, {spec.y_width})"
            )
        if spec.form in RANDOM_FORMS:
            text += f", seed={spec.seed}"
        return text

    def extra_repr(self) -> str:
        """The parent's repr plus form and usage."""
        return f"{super().extra_repr()}, {self._window_repr()}"

    # -- state_dict ---------------------------------------------------------------------------

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        key = prefix + "window"
        loaded = state_dict.get(key)
        if loaded is not None and not self._same_window(loaded):
            raise ValueError(
                f"state_dict[{key!r}] does not match this layer's window ({self._window_repr()}); "
                "build the layer with the same form, usage/radius, grids and seed as the saved one"
            )
        if loaded is not None and loaded.shape != self.window.shape:  # weight-shaped: saved
            first = (slice(None),) * 2 + (slice(0, 1),) * (loaded.dim() - 2)  # before windows
            state_dict[key] = loaded[first].contiguous()  # were stored per channel pair
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if loaded is None and key in missing_keys:
            missing_keys.remove(key)  # plain-layer checkpoints carry no window: ours is rebuilt
        if self.frozen:
            with torch.no_grad():
                self.weight.copy_(apply_window(self.weight, self.window))  # forward no longer masks

    def _same_window(self, loaded: Tensor) -> bool:
        """Whether ``loaded`` is this layer's window, stored per channel pair or weight-shaped.

        It is compared with the recipe's window, not the buffer: ``torch.distributed.checkpoint``
        loads into the live buffer in place, so the buffer may already hold ``loaded``. A
        mismatch refills the buffer from the recipe before the load is refused.
        """
        if loaded.shape not in (self.window.shape, self.weight.shape):
            return False
        window = _broadcastable(self._recipe_window().values, self.window.dim())
        window = window.expand(loaded.shape)
        if window.dtype == torch.bool:
            same = bool(torch.equal(loaded.to(window.device, torch.bool), window))
        else:
            same = bool(torch.allclose(loaded.to(window.device, window.dtype), window, rtol=1e-3))
        if not same:
            self._fill_window()
        return same


def _broadcastable(values: np.ndarray, dim: int) -> Tensor:
    """A built ``(y, x[, *kernel])`` window as a tensor that broadcasts over the weight."""
    tensor = torch.from_numpy(values)
    return tensor.reshape(tensor.shape + (1,) * (dim - tensor.dim()))


# The clean constructors' mixins, shared with Keras (the hooks they use are WindowedLayer's).
MouseLayer = MouseArguments
SchizoLayer = SchizoArguments


def plain_arguments(layer: nn.Module, plain_class: type[nn.Module]) -> dict[str, Any]:
    """``plain_class``'s constructor arguments read back from ``layer`` (device, dtype included).

    Linear / Conv / ConvTranspose layers store every constructor argument under its own name,
    except ``bias``, which is a tensor or None.
    """
    names = inspect.signature(plain_class.__init__).parameters
    skip = ("self", "bias", "device", "dtype")
    arguments = {n: getattr(layer, n) for n in names if n not in skip}
    weight = layer.weight
    return {
        **arguments,
        "bias": layer.bias is not None,
        "device": weight.device,
        "dtype": weight.dtype,
    }
