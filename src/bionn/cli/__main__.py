"""``python -m bionn.cli``: the ``bionn`` command (also what ``torchrun -m bionn.cli`` runs)."""

import sys

from bionn.cli import main

if __name__ == "__main__":
    sys.exit(main())
