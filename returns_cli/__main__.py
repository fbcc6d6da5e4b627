"""`python -m returns_cli ...` is the `returns` command."""

from returns_cli.main import main

main()
