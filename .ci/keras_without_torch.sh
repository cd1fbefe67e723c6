#!/usr/bin/env bash
# Keras users need no PyTorch: in a fresh venv, `pip install ".[keras]" jax` must install no
# torch, and `import bionn.keras as mouse` plus the original Keras README example must run.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SECONDS=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$PYTHON" -m venv "$work/venv"
bin="$work/venv/bin"
"$bin/pip" install -q ".[keras]" jax 2>&1 | { grep -v "is ignored: it is neither" || true; }
installed=$SECONDS
if "$bin/python" -c "import torch" 2>/dev/null; then
    echo "keras-only install: torch is installed, but bionn[keras] must not pull it in" >&2
    exit 1
fi
KERAS_BACKEND=jax "$bin/python" .ci/keras_readme_example.py
echo "keras-only venv without torch: $(du -sh "$work/venv" | cut -f1); install ${installed} s," \
    "example $((SECONDS - installed)) s"
