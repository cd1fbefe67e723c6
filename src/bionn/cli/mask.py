"""``bionn mask``: draw a layer's connection window as a PNG without writing any code.

The clean arguments (``--usage`` or ``--radius``, grids nearest a square) build a mouse layer
for ``--form 2d`` and a schizophrenia layer otherwise; the seed-style arguments
(``--param-reduction``, ``--input2d-width`` ...) build the seed-compatible ``mLinear`` /
``mConv2d`` / ``mConvTranspose2d`` with the original code's meaning. (Saiga et al. 2025;
Mizutani et al. 2022.)

Examples:
    bionn mask --layer conv --in-channels 256 --out-channels 256 --usage 0.35 --out-file mask.png
    bionn mask --layer linear --in-channels 512 --out-channels 512 --form diagonal --usage 0.2

"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable

import bionn
from bionn.cli import error_exit
from bionn.layers import WindowedLayer

__all__ = ["add_arguments", "build_layer", "run"]

_FORMS = ("2d", "diagonal", "gaussian", "random", "individual", "kernel")
_SEED_STYLE = ("param_reduction", "input2d_width", "output2d_width", "window2d_width")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``bionn mask``'s arguments to ``parser``."""
    parser.add_argument(
        "--layer",
        choices=("linear", "conv", "convt"),
        default="conv",
        help="layer kind (default conv)",
    )
    parser.add_argument(
        "--in-channels",
        type=int,
        required=True,
        metavar="N",
        help="input channels (features of a linear layer)",
    )
    parser.add_argument(
        "--out-channels",
        type=int,
        required=True,
        metavar="N",
        help="output channels (features of a linear layer)",
    )
    parser.add_argument(
        "--form", default="2d", choices=_FORMS, help="window form (default: 2d, the mouse form)"
    )
    parser.add_argument("--kernel", type=int, default=3, help="conv kernel size (default 3)")
    clean = parser.add_argument_group("clean arguments")
    clean.add_argument("--usage", type=float, help="target fraction of weights kept")
    clean.add_argument("--radius", type=float, help="'2d' radius (instead of --usage)")
    clean.add_argument("--seed", type=int, help="seed of the random forms")
    seed = parser.add_argument_group("seed-style arguments (the original code's)")
    seed.add_argument("--param-reduction", type=float, help="fraction of weights removed")
    seed.add_argument("--input2d-width", type=int, help="grid width of the x axis")
    seed.add_argument("--output2d-width", type=int, help="grid width of the y axis")
    seed.add_argument("--window2d-width", type=float, help="'2d' radius")
    parser.add_argument("--node", type=int, help="output node of the cone picture ('2d')")
    parser.add_argument("--out-file", default="mask.png", help="PNG to write (default mask.png)")


def build_layer(args: argparse.Namespace) -> WindowedLayer:
    """Build the layer the arguments describe (see the module docstring)."""
    sizes = (args.in_channels, args.out_channels)
    kernel = () if args.layer == "linear" else (args.kernel,)
    seed_style = {k: getattr(args, k) for k in _SEED_STYLE if getattr(args, k) is not None}
    cls: Callable[..., WindowedLayer]  # the class chosen below
    if seed_style:
        if args.usage is not None or args.radius is not None:
            raise ValueError("give either --usage/--radius or the seed-style arguments, not both")
        cls = {"linear": bionn.mLinear, "conv": bionn.mConv2d, "convt": bionn.mConvTranspose2d}[
            args.layer
        ]
        return cls(*sizes, *kernel, form=args.form, seed=args.seed, **seed_style)
    if args.form == "2d":
        cls = {
            "linear": bionn.MouseLinear,
            "conv": bionn.MouseConv2d,
            "convt": bionn.MouseConvTranspose2d,
        }[args.layer]
        if args.usage is None and args.radius is None:
            raise ValueError("give --usage or --radius (or the seed-style arguments)")
        return cls(*sizes, *kernel, usage=args.usage, radius=args.radius)
    if args.layer == "convt":
        raise ValueError("transposed convs take --form 2d, or the seed-style arguments")
    if args.radius is not None:
        raise ValueError(f"--radius is the '2d' form's; --form {args.form} takes --usage")
    cls = bionn.SchizoLinear if args.layer == "linear" else bionn.SchizoConv2d
    return cls(*sizes, *kernel, usage=args.usage, form=args.form, seed=args.seed)


def run(args: argparse.Namespace) -> int:
    """Build the layer, draw its window to ``--out-file``; exit status 2 on bad arguments.

    Every refusal (bad arguments, a window too large to build, an unwritable ``--out-file``) is
    one line on stderr, never a traceback; so is each warning (the seed's dead channels).
    """
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layer = build_layer(args)
        for warning in caught:
            print(f"bionn mask: warning: {warning.message}", file=sys.stderr)
        if args.node is not None and layer.form != "2d":
            raise ValueError(
                f"--node picks a node of the '2d' cone picture; --form {layer.form} "
                "draws the window matrix only"
            )
        bionn.plot_window(layer, args.out_file, node=args.node)
    except OSError as error:
        return error_exit(
            "mask", f"cannot write --out-file {args.out_file}: {error.strerror or error}"
        )
    except (MemoryError, TypeError, ValueError) as error:
        return error_exit("mask", error)
    print(f"{args.out_file}: {type(layer).__name__} {layer._window_repr()}")
    return 0
