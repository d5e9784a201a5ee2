"""The `underlag` command. Only this module prints or chooses exit codes."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from underlag.engine.book import FORMATS
from underlag.engine.errors import InputError, PartialBuildError, UnderlagError, UsageError
from underlag.engine.messages import LANGUAGES, count, set_language, text

EXIT_INPUT = 2
EXIT_TOOL = 1
LOCK_TIMEOUT = 60.0  # seconds `build` waits for the preview or a publish to let go of the project


class _Formatter(argparse.HelpFormatter):
    def add_usage(self, usage, actions, groups, prefix=None):
        # None: a usage line of our own; "" is argparse building a verb's prog name, which has no prefix
        super().add_usage(usage, actions, groups, text("argparse.usage") if prefix is None else prefix)


class _Parser(argparse.ArgumentParser):
    """argparse in the writer's language: usage, headings, -h and refusals (argparse's own are English)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, add_help=False, formatter_class=_Formatter, **kwargs)
        self._positionals.title = text("argparse.positionals")
        self._optionals.title = text("argparse.optionals")
        self.add_argument("-h", "--help", action="help", help=text("argparse.help"))

    def error(self, message: str):
        self.print_usage(sys.stderr)
        print(text("cli.error", message=_argparse_message(message)), file=sys.stderr)
        sys.exit(EXIT_INPUT)


ARGPARSE_MESSAGES = [  # argparse's wording (Python 3.11+) -> our catalogue key
    (re.compile(r"the following arguments are required: (?P<names>.*)"), "argparse.required"),
    (re.compile(r"argument (?P<name>\S+): invalid choice: (?P<value>\S+) \(choose from (?P<choices>.*)\)"),
     "argparse.invalid_choice"),
    (re.compile(r"unrecognized arguments: (?P<names>.*)"), "argparse.unrecognized"),
    (re.compile(r"argument (?P<name>\S+): expected one argument"), "argparse.expected_one"),
]


def _argparse_message(message: str) -> str:
    for pattern, key in ARGPARSE_MESSAGES:
        if match := pattern.fullmatch(message):
            return text(key, **match.groupdict())
    return message


def _parser() -> argparse.ArgumentParser:
    # --lang is accepted before and after the verb; SUPPRESS keeps a verb's default from hiding the first
    lang = argparse.ArgumentParser(add_help=False)
    lang.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS, help=text("help.lang"))
    parser = _Parser(prog="underlag", description=text("help.description"), parents=[lang])
    parser.add_argument("--debug", action="store_true", help=text("help.debug"))
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    def verb(name: str, **kwargs) -> argparse.ArgumentParser:
        return verbs.add_parser(name, help=text(f"help.{name}"), parents=[lang], **kwargs)

    build = verb("build")
    build.add_argument("--format", action="append", choices=FORMATS, help=text("help.format"))
    build.add_argument("--engine", choices=["embedded", "quarto"], default="embedded", help=text("help.engine"))
    build.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                       default=os.environ.get("UNDERLAG_LOCK_TIMEOUT", LOCK_TIMEOUT),
                       help=text("help.lock_timeout", default=f"{LOCK_TIMEOUT:g}"))
    build.add_argument("--page-numbers", action="store_true", help=text("help.page_numbers"))
    check = verb("check")
    for each in (build, check):
        each.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
        each.add_argument("--strict", action="store_true", help=text("help.strict"))
    publish = verb("publish")
    publish.add_argument("--version", required=True, help=text("help.version"))
    publish.add_argument("--status", choices=["utkast", "förslag", "fastställd"], help=text("help.status"))
    publish.add_argument("--dry-run", action="store_true", help=text("help.dry_run"))
    publish.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    for each in (build, check, publish):
        each.add_argument("--profile", help=text("help.profile"))
    lint = verb("lint")
    lint.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    lint.add_argument("--profile", help=text("help.profile"))
    preview = verb("preview")
    preview.add_argument("--port", type=int, default=0, help=text("help.port"))
    preview.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    preview.add_argument("--profile", help=text("help.profile"))
    preview.add_argument("--editor-url", metavar="PATTERN", help=text("help.editor_url"))
    schema = verb("schema")
    schema.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    labels = verb("labels")
    labels.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    labels.add_argument("--profile", help=text("help.profile"))
    review = verb("review")
    review.add_argument("docx", type=Path, help=text("help.docx"))
    review.add_argument("--apply", action="store_true", help=text("help.apply"))
    review.add_argument("--notes", nargs="?", const="", metavar="FILE", help=text("help.notes"))
    review.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    access = verb("accessibility")
    access.add_argument("--project", type=Path, default=Path("."), help=text("help.project"))
    new = verb("new")
    new.add_argument("folder", type=Path, help=text("help.folder"))
    new.add_argument("--mall", default="beslutsunderlag", choices=["beslutsunderlag", "bok"], help=text("help.mall"))
    new.add_argument("--git", action="store_true", help=text("help.git"))
    return parser


def _choose_language(argv: list[str] | None) -> None:
    """--lang anywhere on the line decides before the parser is built, so --help is translated too."""
    args = sys.argv[1:] if argv is None else argv
    for index, arg in enumerate(args):
        value = arg.split("=", 1)[1] if arg.startswith("--lang=") else \
            args[index + 1] if arg == "--lang" and index + 1 < len(args) else None
        if value in LANGUAGES:
            set_language(value)
            return
    set_language(None)


def main(argv: list[str] | None = None) -> int:
    _choose_language(argv)
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except InputError as exc:
        if args.debug:
            raise
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems) or len(exc.problems)
        if isinstance(exc, PartialBuildError):  # the other formats were built: say which
            print(exc.summary, file=sys.stderr)
        else:
            print(count("cli.problems_found", errors), file=sys.stderr)
        return EXIT_INPUT
    except UsageError as exc:
        if args.debug:
            raise
        print(text("cli.error", message=exc), file=sys.stderr)
        return EXIT_INPUT
    except UnderlagError as exc:
        if args.debug:
            raise
        print(text("cli.error", message=exc), file=sys.stderr)
        return EXIT_TOOL
    except OSError as exc:  # the machine, not the sources: a read-only folder, a full disk
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(text("cli.os_error", where=where, reason=exc.strerror or exc), file=sys.stderr)
        return EXIT_TOOL


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    if args.verb == "new":
        from underlag.commands.new import create_project

        files = create_project(args.folder.resolve(), args.mall, args.git)
        console.print(text("cli.created", n=len(files), folder=args.folder))
        return 0
    project = args.project.resolve()
    if not project.is_dir():  # never created: a typo must not make a new, empty project
        raise UsageError(text("cli.no_project", folder=args.project))
    if args.verb == "schema":
        from underlag.report.schema import write_schemas

        for path in write_schemas(project):
            console.print(text("cli.schema_wrote", path=path.relative_to(project)))
        return 0
    if args.verb == "preview":
        from underlag.commands.preview import serve

        try:
            serve(project, args.port, args.profile, lambda text: print(text, flush=True), editor=args.editor_url)
        except KeyboardInterrupt:
            print(text("cli.preview_stopped"), flush=True)
        return 0
    if args.verb == "review":
        from underlag.commands.review import run_review

        run_review(project, args.docx.resolve(), args.apply, args.notes, print)
        return 0
    if args.verb == "accessibility":
        from underlag.commands.accessibility import RECORD, check_and_record

        with console.status(text("cli.accessibility_checking")) as status:
            record = check_and_record(project, progress=lambda text: status.update(text + "…"))
        found = len(record["webb"]["brister"]) + len(record["pdf"]["brister"])
        console.print(text("cli.accessibility_found", n=found, record=RECORD))
        return 0
    if args.verb == "lint":
        from underlag.commands.lint import lint

        result = lint(project, args.profile)
        for line in result.finding_lines():
            print(line)
        print(result.table())
        findings = result.findings
        console.print(count("cli.lint_findings", len(findings)) if findings else text("cli.lint_clean"))
        return EXIT_INPUT if findings else 0
    if args.verb == "labels":
        from underlag.commands.labels import labels, listing

        found = labels(project, args.profile)
        print(listing(found) if found else text("cli.labels_none"))
        return 0
    if args.verb == "publish":
        from underlag.commands.publish import publish

        with console.status(text("cli.publishing")) as status:
            result = publish(project, args.version, args.status, args.dry_run,
                             progress=lambda text: status.update(text + "…"), profile=args.profile)
        for warning in result.warnings:
            print(text("cli.warning_line", warning=warning), file=sys.stderr)
        if result.dry_run:
            console.print(text("cli.would_publish", version=result.version))
        else:
            console.print(text("cli.published", version=result.version, commit=result.commit[:12],
                               folder=result.folder.relative_to(project)))
        for name in result.files:
            console.print(f"  {name}")
        if not result.dry_run:
            console.print(text("cli.push_hint"))
        return 0
    if args.verb == "check":
        from dataclasses import replace

        from underlag.engine.assemble import assemble
        from underlag.commands.build import Options, prepare

        book, warnings = prepare(project, Options(strict=args.strict, profile=args.profile))
        try:
            assembled = assemble(book)
        except InputError as exc:  # the data's warnings too: a writer sees everything in one run
            raise InputError(exc.problems + warnings) from None
        # active content the HTML would lose, markup that damages, and what would keep the PDF from
        # being built (PDF/UA: images without alt text, skipped heading levels) as warnings
        removed = assembled.warnings + [replace(p, severity="warning") for p in assembled.pdf_problems]
        if args.strict and removed:
            raise InputError(removed)
        warnings = warnings + removed
        _print_warnings(warnings)
        if (project / "data").is_dir():  # writers' notes and what is not final yet
            from underlag.report.checks import review_listing
            from underlag.report.load import load_report

            for line in review_listing(load_report(project)[0]):
                print(line)
        console.print(count("cli.no_errors_warnings", len(warnings)) if warnings else text("cli.no_errors"))
        return 0
    from underlag.commands.build import Options, build

    options = Options(formats=tuple(dict.fromkeys(args.format or FORMATS)), strict=args.strict, profile=args.profile,
                      lock_wait=args.lock_timeout, docx_page_numbers=args.page_numbers)
    if args.engine == "quarto":
        return _build_with_quarto(project, options, console)
    with console.status(text("cli.building")) as status:
        result = build(project, options, progress=lambda text: status.update(text + "…"), waiting=console.print)
    _print_warnings(result.warnings)
    _print_summary(console, result)
    return 0


def _print_summary(console, result) -> None:
    """What was rebuilt, what came from the cache, the time per stage and where the outputs are."""
    rebuilt = sorted(name for name, how in result.stages.items() if how == "rebuilt")
    cached = [name for name, how in result.stages.items() if how == "cached"]
    if not result.rendered:
        console.print(text("cli.nothing_changed"))
    if rebuilt:
        console.print(text("cli.rebuilt_names", rebuilt=len(rebuilt), cached=len(cached),
                           names=", ".join(n.split(":", 1)[1] for n in rebuilt)))
    else:
        console.print(text("cli.rebuilt", rebuilt=len(rebuilt), cached=len(cached)))
    for stage, seconds in result.seconds.items():
        console.print(text("cli.stage_seconds", stage=stage, seconds=f"{seconds:.1f}"))
    for fmt, path in result.outputs.items():
        console.print(f"{fmt.upper():5} {path}")


def _build_with_quarto(project: Path, options, console) -> int:
    from dataclasses import replace

    from underlag.engine.assemble import assemble
    from underlag.commands.build import prepare
    from underlag.engine.files import project_lock
    from underlag.engine.render.quarto import quarto_binary, render_with_quarto

    quarto_binary()  # fail before any work when it is missing
    with project_lock(project, options.lock_wait, console.print), console.status(text("cli.building_quarto")) as status:
        book, warnings = prepare(project, options)
        removed = assemble(book).warnings  # addresses are refused before Quarto runs, as for our engine;
        if removed:  # Quarto renders the sources as they are, so active content cannot be cleaned: refuse it
            raise InputError([replace(problem, severity="error") for problem in removed])
        render_with_quarto(project, options.formats, options.profile, lambda text: status.update(text + "…"))
    _print_warnings(warnings)
    console.print(text("cli.quarto_rendered", formats=", ".join(options.formats)))
    return 0


def _print_warnings(warnings) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
