"""`python -m console add-user NAME --role ROLE --merchant M [--merchant M2]`: add a person (the
password is read from the terminal, or from stdin when it is not one);
`python -m console serve [--host H] [--port P]`: run the console (RETURNS_CONSOLE_PORT, 8083)."""

from __future__ import annotations

import argparse
import getpass
import sys

from console.accounts import AccountError, Accounts
from console.roles import ROLE_ACTIONS, Role


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise AccountError("password: the two entries differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def add_user(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m console add-user",
        description="Add a staff member to the console (RETURNS_DATA_DIR/console.sqlite3).")
    parser.add_argument("name", metavar="NAME", help="their sign-in name, e.g. sam")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role],
                        help="; ".join(f"{r.value}: {', '.join(sorted(ROLE_ACTIONS[r]))}"
                                       for r in Role))
    parser.add_argument("--merchant", action="append", required=True, metavar="MERCHANT",
                        help="a merchant whose returns they see (repeat for several; '*' all)")
    parser.add_argument("--replace", action="store_true",
                        help="change an existing person (new password, role, merchants)")
    args = parser.parse_args(argv)
    from runtime.settings import Settings

    accounts = Accounts.in_data_dir(Settings.from_env().data_dir)
    try:
        staff = accounts.add(args.name, read_password(), args.role, args.merchant,
                             replace=args.replace)
    except AccountError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    finally:
        accounts.close()
    print(f"added {staff.name}: {staff.role.value}, merchants {', '.join(sorted(staff.merchants))}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["add-user"]:
        return add_user(argv[1:])
    if argv[:1] == ["serve"] or not argv:
        from console.server import serve_main

        serve_main(argv[1:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
