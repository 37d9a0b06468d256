"""`python -m storyscore.cli ...`, as the `storyscore` command."""

import sys

from storyscore.cli import main

if __name__ == "__main__":
    sys.exit(main())
