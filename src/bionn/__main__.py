"""``python -m bionn``: the ``bionn`` command line."""

import sys

from bionn.cli import main

if __name__ == "__main__":
    sys.exit(main())
