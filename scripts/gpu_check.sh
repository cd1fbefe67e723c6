#!/usr/bin/env bash
# For a lent GPU: one short DDIM and GAN run at 64x64 with AMP (bf16) and torch.compile,
# printing images/s of the standard vs mouse variants. Extra arguments go to gpu_check.py,
# e.g. `scripts/gpu_check.sh --device cpu --size 16 --width 8 --steps 6 --precision fp32
# --no-compile` for the same path on CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python; fi
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
fi
PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}" exec "$PYTHON" scripts/gpu_check.py "$@"
