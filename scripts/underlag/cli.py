"""The `underlag` command. Only this module prints or chooses exit codes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .book import FORMATS
from .errors import InputError, UnderlagError, UsageError

EXIT_INPUT = 2
EXIT_TOOL = 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="underlag", description="Build decision-basis reports.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    verbs = parser.add_subparsers(dest="verb", required=True)
    build = verbs.add_parser("build", help="check, then build the report into report/")
    build.add_argument("--format", action="append", choices=FORMATS, help="format to build (repeatable); default: all")
    check = verbs.add_parser("check", help="check data and chapters without rendering")
    for verb in (build, check):
        verb.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
        verb.add_argument("--strict", action="store_true", help="treat warnings as errors")
    publish = verbs.add_parser("publish", help="publish a numbered version into report/versions/")
    publish.add_argument("--version", required=True, help="semantic version, e.g. 1.2.0")
    publish.add_argument("--status", choices=["utkast", "förslag", "fastställd"],
                         help="the version's status; fastställd is refused while anything is preliminary")
    publish.add_argument("--dry-run", action="store_true", help="show what would be published")
    publish.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    schema = verbs.add_parser("schema", help="write the JSON Schemas of the data files")
    schema.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:
        if args.debug:
            raise
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems) or len(exc.problems)
        print(f"{errors} problem{'s' if errors != 1 else ''} found; report/ was left unchanged.", file=sys.stderr)
        return EXIT_INPUT
    except UsageError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except UnderlagError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_TOOL


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    project = args.project.resolve()
    if args.verb == "schema":
        from .schema import write_schemas

        for path in write_schemas(project):
            console.print(f"wrote {path.relative_to(project)}")
        return 0
    if args.verb == "publish":
        from .publish import publish

        with console.status("publicerar…") as status:
            result = publish(project, args.version, args.status, args.dry_run,
                             progress=lambda text: status.update(text + "…"))
        verb = "would publish" if result.dry_run else "published"
        console.print(f"{verb} version {result.version} in {result.folder.relative_to(project)}:")
        for name in result.files:
            console.print(f"  {name}")
        return 0
    if args.verb == "check":
        from .assemble import assemble
        from .build import prepare

        book, warnings = prepare(project, lambda _: None, args.strict)
        assemble(book)
        _print_warnings(warnings)
        console.print(f"No errors{f', {len(warnings)} warnings' if warnings else ''}.")
        return 0
    from .build import build

    formats = tuple(dict.fromkeys(args.format or FORMATS))
    with console.status("bygger…") as status:
        result = build(project, formats, progress=lambda text: status.update(text + "…"), strict=args.strict)
    _print_warnings(result.warnings)
    for fmt, path in result.outputs.items():
        console.print(f"{fmt.upper():5} {path}  ({result.seconds.get(fmt, 0):.1f} s)")
    return 0


def _print_warnings(warnings) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
