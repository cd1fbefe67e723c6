"""The seed's PyTorch layer names, completed from one table of the seed's arguments.

``mLinear``, ``mConv2d``, ``mConvTranspose2d``, ``SzLinear`` and ``SzConv2d`` are class
statements whose constructors come from :data:`bionn.seed_defaults.SEED_LAYERS`, which
``bionn.keras`` shares.

Each takes the torch layer's own arguments, then the seed's window arguments in the seed's
order (``halfbandwidth``, ``param_reduction``, ``form``, ``input2d_width`` ...), then ``device``
and ``dtype``; ``seed`` (random forms) and ``scale_init`` are keyword-only additions. The seed's
'kernel' form crashed; here it works. A non-zero ``halfbandwidth`` sets the band directly.
Grids that do not divide the channels reproduce the seed's masks with a warning about dead
channels, and windows that keep no weight with a warning (the clean API refuses both).

Example:
    >>> import torch, bionn
    >>> layer = bionn.mLinear(100, 50, form="2d", input2d_width=10, output2d_width=10,
    ...                       window2d_width=0.5)
    >>> layer(torch.randn(2, 100)).shape
    torch.Size([2, 50])
"""

from __future__ import annotations

import inspect
from inspect import Parameter
from typing import TYPE_CHECKING, Any, TypeVar

from bionn import recipes
from bionn.layers._windowed import WindowedLayer, torch_seed
from bionn.layers.conv import WindowedConv2d
from bionn.layers.conv_transpose import WindowedConvTranspose2d
from bionn.layers.linear import WindowedLinear
from bionn.seed_defaults import SEED_DEFAULTS, SeedLayer, seed_class, seed_row

__all__ = ["SzConv2d", "SzLinear", "mConv2d", "mConvTranspose2d", "mLinear"]

_FACTORY = ("device", "dtype")
L = TypeVar("L", bound=WindowedLayer)


def _signature(row: SeedLayer, base: type[WindowedLayer]) -> inspect.Signature:
    """The plain layer's arguments, the seed's window arguments, then device and dtype."""
    plain = list(inspect.signature(base.plain_class().__init__).parameters.values())
    window = [
        Parameter(name, Parameter.POSITIONAL_OR_KEYWORD, default=default)
        for name, default in row.defaults().items()
    ]
    ours = [
        Parameter("seed", Parameter.KEYWORD_ONLY, default=None),
        Parameter("scale_init", Parameter.KEYWORD_ONLY, default=True),
    ]
    head = [p for p in plain if p.name not in _FACTORY]
    return inspect.Signature([*head, *window, *(p for p in plain if p.name in _FACTORY), *ours])


def _seed_layer(cls: type[L]) -> type[L]:
    """Give the class statement ``cls`` the constructor of its row of the seed's table."""
    row = seed_row("torch", cls.__name__)
    signature = _signature(row, cls)

    def __init__(self: L, *args: Any, **kwargs: Any) -> None:  # noqa: N807
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        del arguments["self"]
        window = {**SEED_DEFAULTS, **{name: arguments.pop(name) for name in row.window_args}}
        recipe = recipes.seed_args(
            form=window["form"],
            halfbandwidth=window["halfbandwidth"],
            param_reduction=window["param_reduction"],
            input2d_width=window["input2d_width"],
            output2d_width=window["output2d_width"],
            window2d_width=window["window2d_width"],
            seed=arguments.pop("seed"),
            allowed=row.forms,
            layer=row.name,
            draw_seed=torch_seed,
        )
        super(cls, self).__init__(**arguments, recipe=recipe)
        if window["print_param_usage"]:
            print("param %usage:", 100.0 * self.usage)

    return seed_class(cls, row, __init__, signature)


@_seed_layer
class mLinear(WindowedLinear):  # noqa: N801 - the seed's name
    """The original mouse-mimetic code's ``mLinear``: ``nn.Linear`` with a window of any form."""

    if TYPE_CHECKING:  # the seed's constructor, which _seed_layer sets (help() shows it)

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...


@_seed_layer
class mConv2d(WindowedConv2d):  # noqa: N801 - the seed's name
    """The original mouse-mimetic code's ``mConv2d``: ``nn.Conv2d`` with a window."""

    if TYPE_CHECKING:  # the seed's constructor, which _seed_layer sets (help() shows it)

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...


@_seed_layer
class mConvTranspose2d(WindowedConvTranspose2d):  # noqa: N801 - the seed's name
    """The original code's ``mConvTranspose2d``; ``input2d_width`` lays out the output channels."""

    if TYPE_CHECKING:  # the seed's constructor, which _seed_layer sets (help() shows it)

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...


@_seed_layer
class SzLinear(WindowedLinear):
    """The original schizophrenia-mimicking code's ``SzLinear``: a band or random ``nn.Linear``."""

    if TYPE_CHECKING:  # the seed's constructor, which _seed_layer sets (help() shows it)

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...


@_seed_layer
class SzConv2d(WindowedConv2d):
    """The original schizophrenia-mimicking code's ``SzConv2d``: a band or random ``nn.Conv2d``."""

    if TYPE_CHECKING:  # the seed's constructor, which _seed_layer sets (help() shows it)

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...
