"""Griffe extension for the API reference (mkdocs.yml): bionn's docstring markup as Markdown.

Two habits of bionn's Google-style docstrings that the Markdown pages would show wrongly:

- doctests are headed ``Example:`` (accepted by pydocstyle), but griffe's Google parser turns
  only the plural ``Examples:`` into code blocks; under the singular, Markdown reads the
  ``>>>`` lines as nested block quotes and a ``[...]`` output as a link. The heading is
  renamed before parsing.
- Sphinx roles (``:func:`resolve```, ``:class:`~bionn.windows.WindowSpec```) would print
  their role name; they become inline code (``~`` keeps the last name, as in Sphinx).

Only the text griffe reads changes: the sources and their doctests stay as they are, and
nothing from them is imported or run.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:[ \t]*$", flags=re.MULTILINE)
_ROLE = re.compile(r":(?:attr|class|data|exc|func|meth|mod|obj):`(~?)([^`]+)`")


def _role_as_code(match: re.Match[str]) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


def to_markdown(text: str) -> str:
    """The docstring ``text`` with ``Example:`` headings and Sphinx roles rewritten."""
    return _ROLE.sub(_role_as_code, _SINGULAR.sub(r"\1Examples:", text))


class DocstringMarkup(griffe.Extension):
    """Rewrite each docstring with :func:`to_markdown` before it is parsed."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the docstring of one object once the object tree is built."""
        if obj.docstring is not None:
            obj.docstring.value = to_markdown(obj.docstring.value)
