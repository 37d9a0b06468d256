"""The command line: one module per command, each a thin layer over `storyscore.api` (the research
commands `train` and `evaluate` call `storyscore.training`). Heavy imports happen inside commands, so
`storyscore --help` answers at once."""

from __future__ import annotations

import argparse
import os
import sys

from storyscore.cli import demo, evaluate, index, info, match, plan, serve, tag, train
from storyscore.cli._common import err
from storyscore.errors import StoryscoreError
from storyscore.version import __version__

COMMANDS = (index, match, plan, tag, demo, train, evaluate, serve, info)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="storyscore",
        description="Find music whose emotion fits a story, offline, on a CPU.",
    )
    parser.add_argument("--version", action="version", version=f"storyscore {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 0
    if getattr(args, "top", 1) is not None and getattr(args, "top", 1) < 1:
        err("--top must be at least 1")
        return 2
    try:
        return int(args.func(args))
    except StoryscoreError as exc:
        err(str(exc))
        return exc.exit_code
    except KeyboardInterrupt:
        err("interrupted")
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


__all__ = ["build_parser", "main"]
