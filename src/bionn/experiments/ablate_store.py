"""The files of a removal analysis run: results as JSON lines, trained models, the run's config.

``results.jsonl`` gets one line per finished (repeat, pattern, strength), flushed at once, so an
interrupted analysis resumes where it stopped; a torn last line (killed while writing) is
dropped on reading. ``models/repeat-<r>.pt`` holds each trained network, so resuming never
retrains. ``config.json`` records the options that decide the numbers; resuming with other
values is refused instead of mixing incompatible results.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

__all__ = ["ResultStore", "StoreError"]


class StoreError(ValueError):
    """A run folder that cannot be resumed with these options; the message says why."""


class ResultStore:
    """The run folder ``out``: finished rows, saved models and the identity of the run."""

    def __init__(self, out: str | Path, identity: dict[str, Any]) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.results = self.out / "results.jsonl"
        self._check_identity(identity)
        self.rows = self._read_rows()
        self.done = {(r["repeat"], r["pattern"], r["strength"]) for r in self.rows}

    def _check_identity(self, identity: dict[str, Any]) -> None:
        path = self.out / "config.json"
        if path.is_file():
            saved = json.loads(path.read_text())
            changed = {k: (saved.get(k), v) for k, v in identity.items() if saved.get(k) != v}
            if changed:
                listing = ", ".join(f"{k}: {old!r} -> {new!r}" for k, (old, new) in changed.items())
                raise StoreError(
                    f"{self.out} holds an analysis with other options ({listing}); "
                    f"use another --out or the same options"
                )
        else:
            _write_atomic(path, (json.dumps(identity, indent=1) + "\n").encode())

    def _read_rows(self) -> list[dict[str, Any]]:
        if not self.results.is_file():
            return []
        lines = self.results.read_text().splitlines()
        rows = []
        for number, line in enumerate(lines, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                if number < len(lines):
                    raise StoreError(
                        f"{self.results} line {number} is not JSON; fix or delete the file"
                    ) from None
                warnings.warn(f"dropping the torn last line of {self.results}", stacklevel=3)
                text = "".join(json.dumps(row) + "\n" for row in rows)
                _write_atomic(self.results, text.encode())
        return rows

    def append(self, row: dict[str, Any]) -> None:
        """Add one finished row to the file (flushed) and to :attr:`rows`."""
        with self.results.open("a") as handle:
            handle.write(json.dumps(row) + "\n")
            handle.flush()
        self.rows.append(row)
        self.done.add((row["repeat"], row["pattern"], row["strength"]))

    def model_path(self, repeat: int) -> Path:
        """Where the network trained for ``repeat`` is kept."""
        return self.out / "models" / f"repeat-{repeat}.pt"

    def save_model(self, repeat: int, model: nn.Module) -> None:
        """Keep the trained network of ``repeat`` (written to a temporary file, then renamed)."""
        path = self.model_path(repeat)
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            torch.save(model.state_dict(), handle)
        os.replace(tmp, path)

    def load_model(self, repeat: int, model: nn.Module) -> bool:
        """Load the saved network of ``repeat`` into ``model``; False when there is none."""
        path = self.model_path(repeat)
        if not path.is_file():
            return False
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return True


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
