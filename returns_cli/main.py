"""Entry point of the `returns` console script (filled in below)."""

import sys


def main(argv: list[str] | None = None) -> int:
    print("returns: not implemented yet", file=sys.stderr)
    return 1
