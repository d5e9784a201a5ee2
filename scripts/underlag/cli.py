"""The `underlag` command. Only this module prints or chooses exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .book import FORMATS
from .errors import InputError, UnderlagError

EXIT_INPUT = 2
EXIT_TOOL = 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="underlag", description="Build decision-basis reports.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    verbs = parser.add_subparsers(dest="verb", required=True)
    build_parser = verbs.add_parser("build", help="build the report into report/")
    build_parser.add_argument("--format", action="append", choices=FORMATS,
                              help="format to build (repeatable); default: all")
    build_parser.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    check_parser = verbs.add_parser("check", help="check data and chapters without rendering")
    check_parser.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:
        if args.debug:
            raise
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{count} problem{'s' if count != 1 else ''} found; report/ was left unchanged.", file=sys.stderr)
        return EXIT_INPUT
    except UnderlagError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TOOL


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True)
    if args.verb == "check":
        from .assemble import assemble
        from .build import prepare

        assemble(prepare(args.project.resolve(), lambda _: None))
        console.print("[green]Inga problem hittades.[/green]")
        return 0
    from .build import build

    formats = tuple(dict.fromkeys(args.format or FORMATS))
    with console.status("bygger…") as status:
        result = build(args.project, formats, progress=lambda text: status.update(text + "…"))
    for fmt, path in result.outputs.items():
        console.print(f"{fmt.upper():5} {path}  ({result.seconds.get(fmt, 0):.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
