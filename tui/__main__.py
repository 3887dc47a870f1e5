"""Entry point: `refdeck ...` and `python -m tui ...`."""

from __future__ import annotations

import sys


def main() -> None:
    """Run the refdeck command line and exit with its status."""
    from tui.cli import run  # deferred so `python -m tui --version` stays quick

    sys.exit(run())


if __name__ == "__main__":
    main()
