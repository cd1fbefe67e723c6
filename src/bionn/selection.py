"""Which layers a conversion changes: the rules shared by PyTorch and Keras model surgery.

Framework-neutral (no torch, no keras): :mod:`bionn.surgery` (PyTorch) and
:mod:`bionn.keras.convert` apply the same include / exclude selection and default rules, and
report what they changed in the same :class:`LayerChange` rows.

Default rules leave alone, and list with a reason, the layers a window does not suit:

- layers with fewer than ``min_channels`` channels on either window axis (the RGB input conv,
  depthwise convs): their grids would be a line of a few nodes;
- the last weight layer (the classifier or output layer), unless named in ``include``;
- layers not selected by ``include`` or selected by ``exclude``.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from bionn.recipes import SCHIZO_CONV_FORMS

__all__ = ["LayerChange", "LayerRules", "SchizoArguments", "Selector", "format_changes"]

Selector = Iterable[type | str]


@dataclass(frozen=True)
class LayerChange:
    """One weight layer: its name, its class before and after ('' if skipped) and a note.

    The note says why a skipped layer was left alone, or where else a replaced layer sits and
    what it is tied to.
    """

    name: str
    before: str
    after: str
    note: str = ""


def format_changes(replaced: list[LayerChange], skipped: list[LayerChange]) -> list[str]:
    """The report lines of a conversion: replaced layers, then those left alone and why."""
    lines = [f"replaced {len(replaced)} layer(s):"]
    lines += [
        f"  {c.name}: {c.before} -> {c.after}" + (f" ({c.note})" if c.note else "")
        for c in replaced
    ]
    lines.append(f"left alone {len(skipped)} layer(s):")
    lines += [f"  {c.name}: {c.before} ({c.note})" for c in skipped]
    return lines


class LayerRules:
    """The include / exclude selection and the default rules of the module docstring.

    Args:
        supported: The layer types the conversion can replace.
        min_channels: Layers with fewer channels on either window axis stay plain.
        caller: The converting function, named in messages.
        include: Types and/or ``fnmatch`` name patterns to convert (a name also selects the
            layers inside it); default every supported layer.
        exclude: Types and/or name patterns to leave alone; wins over ``include``.
        base_type: The class every type in ``include`` / ``exclude`` must subclass.

    Raises:
        ValueError: ``min_channels`` is not an int >= 1.
        TypeError: A selector item is neither a layer type nor a string, or ``include`` names
            a type that cannot be converted.

    """

    def __init__(
        self,
        supported: Collection[type],
        min_channels: int,
        caller: str,
        include: Selector | None,
        exclude: Selector | None,
        base_type: type = object,
    ) -> None:
        if isinstance(min_channels, bool) or not isinstance(min_channels, int) or min_channels < 1:
            raise ValueError(f"{caller}: min_channels must be an int >= 1, got {min_channels!r}")
        self.supported, self.min_channels, self.caller = supported, min_channels, caller
        self.include_types, self.include_names = _split(include, "include", caller, base_type)
        self.exclude_types, self.exclude_names = _split(exclude, "exclude", caller, base_type)
        self.selective = include is not None
        self.last: str | None = None
        for layer_type in self.include_types:
            if layer_type not in supported:
                names = ", ".join(_type_name(t) for t in supported)
                raise TypeError(
                    f"{caller} cannot convert {layer_type.__name__} (include=); "
                    f"supported layer types: {names}"
                )

    def start(self, layer_names: list[str], skip_last: bool) -> None:
        """Take the convertible layers' names, in order; the last one is the classifier.

        Raises:
            ValueError: An include name pattern matches none of them (a typo would silently
                convert nothing).

        """
        for pattern in self.include_names:
            if not any(matches(n, pattern) for n in layer_names):
                raise ValueError(
                    f"{self.caller}: include pattern {pattern!r} matches no "
                    f"convertible layer; their names are {layer_names}"
                )
        self.last = layer_names[-1] if skip_last and layer_names else None

    def skip_reason(self, name: str, layer_type: type, channels: int) -> str:
        """Why the layer ``name`` stays as it is ('' to convert it)."""
        named = any(matches(name, p) for p in self.include_names)
        if layer_type in self.exclude_types or any(matches(name, p) for p in self.exclude_names):
            return "excluded"
        if self.selective and not (named or layer_type in self.include_types):
            return "not included"
        if not name:
            return "the model itself is the layer: nothing to replace it in"
        if name == self.last and not named:
            return "last layer (classifier); name it in include= to convert it"
        if channels < self.min_channels:
            return f"{channels} channels < min_channels={self.min_channels}"
        return ""


class SchizoArguments:
    """The window arguments ``schizofy`` gives each converted layer, in conversion order.

    Layer ``i`` gets seed ``seed + i``, or one from ``draw_seed`` when ``seed`` is None.
    """

    def __init__(
        self, usage: float, form: str, conv_form: str | None, seed: int | None,
        draw_seed: Callable[[], int],
    ) -> None:  # fmt: skip
        self.usage, self.form, self.conv_form = usage, form, conv_form
        self._seeds = itertools.count(seed) if seed is not None else None
        self._draw_seed = draw_seed

    def linear(self) -> dict[str, object]:
        """``usage``, ``form`` and ``seed`` of the next dense / linear layer."""
        seed = next(self._seeds) if self._seeds else self._draw_seed()
        return {"usage": self.usage, "form": self.form, "seed": seed}

    def conv(self) -> dict[str, object]:
        """The same for the next conv; called per converted conv, so only convs can fail.

        Raises:
            ValueError: ``form`` has no conv version and no ``conv_form`` was given.

        """
        if self.conv_form is None and self.form not in SCHIZO_CONV_FORMS:
            raise ValueError(
                f"schizofy: form={self.form!r} has no conv version; pass conv_form= "
                f"(one of {SCHIZO_CONV_FORMS}) or exclude the conv layers"
            )
        return {**self.linear(), "form": self.conv_form or self.form}


def matches(name: str, pattern: str) -> bool:
    """``fnmatch``, or ``name`` lies inside what ``pattern`` names (``a.b``, ``a/b``)."""
    return fnmatch.fnmatchcase(name, pattern) or name.startswith((pattern + ".", pattern + "/"))


def _split(
    selector: Selector | None, argument: str, caller: str, base_type: type
) -> tuple[list[type], list[str]]:
    if selector is None:
        return [], []
    if isinstance(selector, (str, type)):
        selector = [selector]
    types, names = [], []
    for item in selector:
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, type) and issubclass(item, base_type):
            types.append(item)
        else:
            raise TypeError(
                f"{caller}: {argument}= takes layer types and name patterns, got {item!r}"
            )
    return types, names


def _type_name(layer_type: type) -> str:
    """``nn.Linear`` for torch layers, the class name otherwise."""
    return (
        f"nn.{layer_type.__name__}"
        if layer_type.__module__.startswith("torch.")
        else (layer_type.__name__)
    )
