"""The `underlag` command. Only this module prints or chooses exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from underlag.engine.book import FORMATS
from underlag.engine.errors import InputError, PartialBuildError, UnderlagError, UsageError

EXIT_INPUT = 2
EXIT_TOOL = 1
LOCK_TIMEOUT = 60.0  # seconds `build` waits for the preview or a publish to let go of the project


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="underlag", description="Build decision-basis reports.")
    parser.add_argument("--debug", action="store_true", help="show a traceback on errors")
    verbs = parser.add_subparsers(dest="verb", required=True)
    build = verbs.add_parser("build", help="check, then build the report into report/")
    build.add_argument("--format", action="append", choices=FORMATS, help="format to build (repeatable); default: all")
    build.add_argument("--engine", choices=["embedded", "quarto"], default="embedded",
                       help="embedded pandoc+Typst (default), or real Quarto when it is on PATH")
    build.add_argument("--lock-timeout", type=float, metavar="SECONDS",
                       default=os.environ.get("UNDERLAG_LOCK_TIMEOUT", LOCK_TIMEOUT),
                       help=f"how long to wait while the preview or a publish holds the project "
                            f"(default: $UNDERLAG_LOCK_TIMEOUT or {LOCK_TIMEOUT:g})")
    check = verbs.add_parser("check", help="check data and chapters without rendering")
    for verb in (build, check):
        verb.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
        verb.add_argument("--strict", action="store_true", help="treat warnings as errors")
    publish = verbs.add_parser("publish", help="publish a numbered version onto the Git branch versioner")
    publish.add_argument("--version", required=True, help="semantic version, e.g. 1.2.0")
    publish.add_argument("--status", choices=["utkast", "förslag", "fastställd"],
                         help="the version's status; fastställd is refused while anything is preliminary")
    publish.add_argument("--dry-run", action="store_true", help="show what would be published")
    publish.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    for verb in (build, check, publish):
        verb.add_argument("--profile", help="Quarto profile(s), comma-separated: merges _quarto-<name>.yml")
    lint = verbs.add_parser("lint", help="Swedish spelling, readability (LIX), typography, headings, references")
    lint.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    lint.add_argument("--profile", help="Quarto profile(s), comma-separated")
    preview = verbs.add_parser("preview", help="serve the HTML on 127.0.0.1 and rebuild it when sources change")
    preview.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    preview.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    preview.add_argument("--profile", help="Quarto profile(s), comma-separated")
    preview.add_argument("--editor-url", metavar="PATTERN",
                         help="link that opens a source line in your editor, with {path} and {line} "
                              "(default: $UNDERLAG_EDITOR_URL or vscode://file{path}:{line})")
    schema = verbs.add_parser("schema", help="write the JSON Schemas of the data files")
    schema.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    review = verbs.add_parser("review", help="comments and tracked changes of a reviewed DOCX, at file:line")
    review.add_argument("docx", type=Path, help="the DOCX the reviewers returned")
    review.add_argument("--apply", action="store_true", help="write tracked changes to prose into the chapters")
    review.add_argument("--notes", nargs="?", const="", metavar="FILE",
                        help="also write the list as Markdown review notes (default: granskning/<docx>.md)")
    review.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    access = verbs.add_parser("accessibility", help="check the HTML (axe-core) and PDF (pdfua), record the findings in "
                              "data/tillganglighet.yaml for the accessibility statement, and build again")
    access.add_argument("--project", type=Path, default=Path("."), help="project folder (default: .)")
    new = verbs.add_parser("new", help="start a new report project in an empty folder")
    new.add_argument("folder", type=Path, help="the new project's folder (absent or empty)")
    new.add_argument("--mall", default="beslutsunderlag", choices=["beslutsunderlag", "bok"],
                     help="beslutsunderlag (the decision-basis form, default) or bok (a plain Quarto book)")
    new.add_argument("--git", action="store_true", help="also run git init and make the first commit")
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
        if isinstance(exc, PartialBuildError):  # the other formats were built: say which
            print(exc.summary, file=sys.stderr)
        else:
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
    except OSError as exc:  # the machine, not the sources: a read-only folder, a full disk
        if args.debug:
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"fel: {where}{exc.strerror or exc}; kontrollera att mappen går att skriva i och att disken har "
              "ledigt utrymme, och kör kommandot igen", file=sys.stderr)
        return EXIT_TOOL


def _run(args: argparse.Namespace) -> int:
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    if args.verb == "new":
        from underlag.commands.new import create_project

        files = create_project(args.folder.resolve(), args.mall, args.git)
        console.print(f"Skapade {len(files)} filer i {args.folder}. Bygg rapporten med: "
                      f"cd {args.folder} && underlag build")
        return 0
    project = args.project.resolve()
    if not project.is_dir():  # never created: a typo must not make a new, empty project
        raise UsageError(f"projektmappen {args.project} finns inte; ange en befintlig mapp med --project")
    if args.verb == "schema":
        from underlag.report.schema import write_schemas

        for path in write_schemas(project):
            console.print(f"wrote {path.relative_to(project)}")
        return 0
    if args.verb == "preview":
        from underlag.commands.preview import serve

        try:
            serve(project, args.port, args.profile, lambda text: print(text, flush=True), editor=args.editor_url)
        except KeyboardInterrupt:
            print("förhandsvisningen stoppad", flush=True)
        return 0
    if args.verb == "review":
        from underlag.commands.review import run_review

        run_review(project, args.docx.resolve(), args.apply, args.notes, print)
        return 0
    if args.verb == "accessibility":
        from underlag.commands.accessibility import RECORD, check_and_record

        with console.status("granskar…") as status:
            record = check_and_record(project, progress=lambda text: status.update(text + "…"))
        found = len(record["webb"]["brister"]) + len(record["pdf"]["brister"])
        console.print(f"{found} brister hittade; skrev {RECORD} och byggde rapporten igen.")
        return 0
    if args.verb == "lint":
        from underlag.commands.lint import lint

        findings = lint(project, args.profile)
        for finding in findings:
            print(finding)
        console.print(f"{len(findings)} finding{'s' if len(findings) != 1 else ''}." if findings else "Lint is clean.")
        return EXIT_INPUT if findings else 0
    if args.verb == "publish":
        from underlag.commands.publish import publish

        with console.status("publicerar…") as status:
            result = publish(project, args.version, args.status, args.dry_run,
                             progress=lambda text: status.update(text + "…"), profile=args.profile)
        for warning in result.warnings:
            print(f"varning: {warning}", file=sys.stderr)
        if result.dry_run:
            console.print(f"would publish version {result.version} on the branch versioner:")
        else:
            console.print(f"published version {result.version} on the branch versioner (commit {result.commit[:12]}); "
                          f"local view in {result.folder.relative_to(project)}:")
        for name in result.files:
            console.print(f"  {name}")
        if not result.dry_run:
            console.print("push it to the server with: git push origin versioner")
        return 0
    if args.verb == "check":
        from underlag.engine.assemble import assemble
        from underlag.commands.build import Options, prepare

        book, warnings = prepare(project, Options(strict=args.strict, profile=args.profile))
        removed = assemble(book).warnings  # active content the HTML would lose
        if args.strict and removed:
            raise InputError(removed)
        warnings = warnings + removed
        _print_warnings(warnings)
        if (project / "data").is_dir():  # writers' notes and what is not final yet
            from underlag.report.checks import review_listing
            from underlag.report.load import load_report

            for line in review_listing(load_report(project)[0]):
                print(line)
        console.print(f"No errors{f', {len(warnings)} warnings' if warnings else ''}.")
        return 0
    from underlag.commands.build import Options, build

    options = Options(formats=tuple(dict.fromkeys(args.format or FORMATS)), strict=args.strict, profile=args.profile,
                      lock_wait=args.lock_timeout)
    if args.engine == "quarto":
        return _build_with_quarto(project, options, console)
    with console.status("bygger…") as status:
        result = build(project, options, progress=lambda text: status.update(text + "…"), waiting=console.print)
    _print_warnings(result.warnings)
    _print_summary(console, result)
    return 0


def _print_summary(console, result) -> None:
    """What was rebuilt, what came from the cache, the time per stage and where the outputs are."""
    rebuilt = sorted(name for name, how in result.stages.items() if how == "rebuilt")
    cached = [name for name, how in result.stages.items() if how == "cached"]
    if not result.rendered:
        console.print("Nothing changed: no format needed rendering.")
    console.print(f"{len(rebuilt)} rebuilt, {len(cached)} from cache"
                  + (f": {', '.join(n.split(':', 1)[1] for n in rebuilt)}" if rebuilt else ""))
    for stage, seconds in result.seconds.items():
        console.print(f"  {stage}: {seconds:.1f} s")
    for fmt, path in result.outputs.items():
        console.print(f"{fmt.upper():5} {path}")


def _build_with_quarto(project: Path, options, console) -> int:
    from dataclasses import replace

    from underlag.engine.assemble import assemble
    from underlag.commands.build import prepare
    from underlag.engine.files import project_lock
    from underlag.engine.render.quarto import quarto_binary, render_with_quarto

    quarto_binary()  # fail before any work when it is missing
    with project_lock(project, options.lock_wait, console.print), console.status("bygger med Quarto…") as status:
        book, warnings = prepare(project, options)
        removed = assemble(book).warnings  # addresses are refused before Quarto runs, as for our engine;
        if removed:  # Quarto renders the sources as they are, so active content cannot be cleaned: refuse it
            raise InputError([replace(problem, severity="error") for problem in removed])
        render_with_quarto(project, options.formats, options.profile, lambda text: status.update(text + "…"))
    _print_warnings(warnings)
    console.print(f"Quarto rendered {', '.join(options.formats)} into report/")
    return 0


def _print_warnings(warnings) -> None:
    for warning in warnings:
        print(warning, file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
