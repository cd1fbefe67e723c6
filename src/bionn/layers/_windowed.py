"""The mixin shared by every PyTorch layer: window buffer, masked weight, counting, checks.

A windowed layer is a plain ``nn.Linear`` / ``nn.Conv2d`` / ``nn.ConvTranspose2d`` whose forward
uses ``weight * window``. The window is a buffer (bool for binary forms, float for 'gaussian'),
never a parameter, so optimisers never see it and masked entries of the effective weight stay
exactly zero whatever the optimiser does to ``weight``.
"""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import torch
from torch import Tensor, nn

from bionn.windows import BINARY_FORMS, Window, WindowSpec


class WindowedLayer:
    """Mixin for ``nn.Module`` layers with a ``weight`` whose first two dims are (y, x)."""

    weight: Tensor
    window: Tensor
    window_spec: WindowSpec
    usage: float
    halfbandwidth: float
    scale_init: bool
    training: bool

    # Filled by ``_install_window``; the layer's ``reset_parameters`` runs before it exists.
    _eval_cache: tuple[tuple[Any, ...], Tensor] | None = None
    _window_cache: tuple[tuple[Any, ...], Tensor] | None = None
    # Set by ``freeze``: ``weight`` already holds the masked weight.
    frozen: bool = False
    _requires_grad_before_freeze: bool = True

    # -- construction -------------------------------------------------------------------------

    def _channel_axes(self) -> tuple[int, int]:
        """``(n_x, n_y)`` of the window matrix; see SPEC's axis table."""
        raise NotImplementedError

    def _install_window(self, spec: WindowSpec, scale_init: bool = True) -> None:
        n_x, n_y = self._channel_axes()
        kernel_shape = tuple(self.weight.shape[2:])
        built = spec.build(n_x, n_y, kernel_shape)
        self.window_spec = spec
        self.usage = built.usage
        self.halfbandwidth = built.halfbandwidth
        self.scale_init = scale_init
        self.register_buffer("window", self._as_buffer(built))  # type: ignore[attr-defined]
        if scale_init:
            self._scale_initial_weight()

    def _as_buffer(self, built: Window) -> Tensor:
        values = torch.from_numpy(built.values)
        values = values.reshape(values.shape + (1,) * (self.weight.dim() - values.dim()))
        dtype = torch.bool if self.is_binary else self.weight.dtype
        return values.expand(self.weight.shape).to(self.weight.device, dtype).contiguous()

    def reset_parameters(self) -> None:
        """The parent's initialisation, then the window's initial scaling (SPEC)."""
        super().reset_parameters()  # type: ignore[misc]
        if "window" in self._buffers and self.scale_init:  # type: ignore[attr-defined]
            self._scale_initial_weight()

    @torch.no_grad()
    def _scale_initial_weight(self) -> None:
        if not self.is_binary:
            return  # SPEC: the 'gaussian' kernel is not pre-scaled.
        ones = int(self.window.count_nonzero())
        w_corr = self.window.numel() / ones if ones else 1.0
        self.weight.mul_(self.window).mul_(w_corr)

    # -- forward ----------------------------------------------------------------------------

    @property
    def is_binary(self) -> bool:
        """Whether the window is a 0/1 mask (every form but 'gaussian')."""
        return self.window_spec.form in BINARY_FORMS

    def masked_weight(self) -> Tensor:
        """The effective weight ``weight * window`` used in forward.

        In eval mode without autograd the product is cached, keyed on the weight's version
        counter, so inference costs the same as the plain layer; any in-place update, ``.to()``
        or ``load_state_dict`` changes the key. Writes through ``.data`` bypass that counter, so
        reading ``layer.weight`` and calling ``train()`` / ``eval()`` drop the cache as well;
        ``.data`` writes through ``parameters()`` need one of these before the next forward.
        """
        # not ``self.weight``: that read drops the cache (see ``__getattr__``), except where
        # spectral_norm or a parametrization computes ``weight`` as an ordinary attribute
        weight = self._parameters.get("weight")  # type: ignore[attr-defined]
        if weight is None:
            weight = self.weight
        if self.frozen:
            return weight
        if self.training or torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self._multiply(weight)
        key = (
            weight._version,
            weight.data_ptr(),
            weight.dtype,
            self.window._version,
            self.window.data_ptr(),
            torch.is_inference_mode_enabled(),
        )
        if self._eval_cache is None or self._eval_cache[0] != key:
            self._eval_cache = (key, self._multiply(weight))
        return self._eval_cache[1]

    def _multiply(self, weight: Tensor) -> Tensor:
        return weight * self._window_as(weight)

    def _window_as(self, weight: Tensor) -> Tensor:
        # ``weight * bool_window`` converts the mask on every call, which costs more than the
        # multiply itself: keep the converted window until the window or the dtype changes.
        window = self.window
        if window.dtype == weight.dtype or torch.compiler.is_compiling():
            return window if window.dtype == torch.bool else window.to(weight.dtype)
        key = (weight.dtype, window._version, window.data_ptr())
        if self._window_cache is None or self._window_cache[0] != key:
            with torch.inference_mode(False):  # built under inference_mode, still fit for autograd
                self._window_cache = (key, window.to(weight.dtype))
        return self._window_cache[1]

    # -- inference and export ----------------------------------------------------------------

    @torch.no_grad()
    def freeze(self) -> WindowedLayer:
        """Inference mode: store the masked weight in ``weight`` once; forward multiplies no more.

        ``weight`` stops requiring grad. For binary forms :meth:`unfreeze` undoes this exactly
        (the masked weight is a valid weight for the same window). For 'gaussian' the real-valued
        window is baked into ``weight`` and cannot be taken out again: freezing such a layer is
        inference-only, and a ``state_dict`` saved while frozen must be loaded into a frozen
        layer. Loading a checkpoint into a frozen layer masks the loaded weight again.

        Returns:
            The layer itself.

        """
        if not self.frozen:
            self.weight.copy_(self._multiply(self.weight))
            self._requires_grad_before_freeze = self.weight.requires_grad
            self.weight.requires_grad_(False)
            self.frozen = True
            self._eval_cache = None
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
        plain = plain_class(**plain_arguments(self, plain_class))  # type: ignore[arg-type]
        plain.weight.copy_(self.masked_weight())
        if self.bias is not None:  # type: ignore[attr-defined]
            plain.bias.copy_(self.bias)  # type: ignore[attr-defined]
        for name, parameter in plain.named_parameters():
            parameter.requires_grad_(getattr(self, name).requires_grad)
        if self.frozen:  # the plain copy is an ordinary layer: it trains as before the freeze
            plain.weight.requires_grad_(self._requires_grad_before_freeze)
        return plain.train(self.training)

    def __getattr__(self, name: str) -> Any:
        if name == "weight":  # the caller may write through ``.data``, unseen by the version key
            self.__dict__["_eval_cache"] = None
        return super().__getattr__(name)  # type: ignore[misc]

    def train(self, mode: bool = True) -> WindowedLayer:
        """Switch train / eval mode as the parent does and drop the eval cache."""
        self._eval_cache = None
        return super().train(mode)  # type: ignore[misc]

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()  # type: ignore[misc]
        state.pop("_eval_cache", None)
        state.pop("_window_cache", None)
        return state

    # -- counting (seed-compatible names) -----------------------------------------------------

    @property
    def form(self) -> str:
        """The window form."""
        return self.window_spec.form

    def get_num_weights(self) -> int:
        """Window size, spatial kernel dims included."""
        return self.window.numel()

    def get_num_zeros(self) -> int:
        """Weights the window removes (for 'gaussian': the removed share of the window size)."""
        if self.is_binary:
            return self.window.numel() - int(self.window.count_nonzero())
        return round(self.window.numel() * (1.0 - self.usage))

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
        if spec.form in ("random", "individual", "kernel"):
            text += f", seed={spec.seed}"
        return text

    def extra_repr(self) -> str:
        """The parent's repr plus form and usage."""
        return f"{super().extra_repr()}, {self._window_repr()}"  # type: ignore[misc]

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
        if loaded is not None and not _same_window(loaded, self.window):
            raise ValueError(
                f"state_dict[{key!r}] does not match this layer's window ({self._window_repr()}); "
                "build the layer with the same form, usage/radius, grids and seed as the saved one"
            )
        super()._load_from_state_dict(  # type: ignore[misc]
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        if loaded is None and key in missing_keys:
            missing_keys.remove(key)  # plain-layer checkpoints carry no window: ours is rebuilt
        if self.frozen:
            with torch.no_grad():
                self.weight.copy_(self._multiply(self.weight))  # forward no longer masks


def _same_window(loaded: Tensor, window: Tensor) -> bool:
    if loaded.shape != window.shape:
        return False
    if window.dtype == torch.bool:
        return bool(torch.equal(loaded.to(window.device, torch.bool), window))
    return bool(torch.allclose(loaded.to(window.device, window.dtype), window, rtol=1e-3))


def plain_arguments(layer: nn.Module, plain_class: type[nn.Module]) -> dict[str, Any]:
    """``plain_class``'s constructor arguments read back from ``layer`` (device, dtype included).

    Linear / Conv / ConvTranspose layers store every constructor argument under its own name,
    except ``bias``, which is a tensor or None.
    """
    names = inspect.signature(plain_class.__init__).parameters
    skip = ("self", "bias", "device", "dtype")
    arguments = {n: getattr(layer, n) for n in names if n not in skip}
    weight = layer.weight
    return {**arguments, "bias": layer.bias is not None, "device": weight.device,
            "dtype": weight.dtype}  # fmt: skip


def warn_dead_channels(n_x: int, n_y: int, spec: WindowSpec, layer: str) -> None:
    """Warn when a '2d' grid leaves channels outside whole rows (the seed's behaviour)."""
    if spec.form != "2d" or n_y <= 1 or spec.x_width > n_x or spec.y_width > n_y:
        return  # nothing to warn about, or the builder refuses the grid with an error
    if n_y % spec.y_width:
        dead = n_y - (n_y // spec.y_width) * spec.y_width
        warnings.warn(
            f"{layer}: {n_y} y channels are not a multiple of output2d_width={spec.y_width}; "
            f"the last {dead} are never connected (dead), as in the original code",
            stacklevel=4,
        )
    if n_x % spec.x_width:
        warnings.warn(
            f"{layer}: {n_x} x channels are not a multiple of input2d_width={spec.x_width}; "
            "the channels of the last partial grid row sit outside the unit plane",
            stacklevel=4,
        )


def torch_seed() -> int:
    """A fresh seed for random forms from torch's RNG (reproducible after ``torch.manual_seed``)."""
    return int(torch.randint(2**31 - 1, ()).item())


def bind_plain_arguments(
    plain_class: type[nn.Module], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> dict[str, Any]:
    """``plain_class``'s constructor arguments by name, defaults filled in.

    Lets the clean-API layers take exactly the parent's arguments (positional or keyword)
    without restating its signature; wrong arguments raise the parent's own ``TypeError``.
    """
    bound = inspect.signature(plain_class.__init__).bind(None, *args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    del arguments["self"]
    return arguments
