"""Publishing numbered versions onto the Git branch `versioner`: atomic, traceable, never overwritten.

A version holds every format of every edition, a copy of the inputs it was built from (as Git
holds them), a manifest (sha256 of every output and input, git revision, tool versions, build
and publication time) and a changelog against the previous version on the branch. It is built
in a temporary folder and written as one commit on `versioner` (history.py), so a failed or
killed publish leaves nothing that looks like a version, and a build server's fresh clone sees
every version published before. `report/versions/` is only a local view of the branch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from html import escape
from importlib import metadata
from pathlib import Path

from underlag.engine.book import read_book
from underlag.commands.build import FORMATS, OUTPUT_DIR, Options, build_into, source_date_epoch, source_revision
from underlag.report.changes import INPUTS_DIR, SEMVER, VERSIONS_DIR, changelog, changes_since_previous, version_key
from underlag.engine.errors import InputError, Problem, UsageError
from underlag.engine.files import project_lock
from underlag.engine.messages import text as _
from underlag.engine.history import (BRANCH, REMOTE, History, commit_version, copy_tracked, extract, published_versions, read_file,
                      read_history, require_repository, special_files, tracked, uncommitted)
from underlag.engine.privacy import scan_project

# What a version is built from, as Git pathspecs relative to the project folder
INPUTS = ("_quarto*.yml", "_variables.yml", "data", "chapters", "templates", "figures/static",
          ":(exclude)chapters/_generated")  # written by every build, even where no .gitignore says so
PACKAGES = ("underlag", "pydantic", "PyYAML", "Jinja2", "matplotlib", "numpy", "pandas", "python-docx",
            "pypandoc-binary", "typst", "rich", "fontpkg-noto-serif", "fontpkg-noto-sans")
# How settled an item is. A version's status asks every item to reach a rank; a status the
# table does not know (a new one in the model) counts as the least settled, so the gate fails closed.
SETTLED = {"exempel": 0, "saknas": 0, "preliminär": 1, "förslag": 2, "fastställd": 3}
REQUIRED = {"fastställd": 3, "förslag": 1}  # utkast: anything may still be open
FORMAT_NAMES = {"pdf": "PDF", "docx": "Word", "html": "HTML"}
MAIN_EDITION = "Fullständig rapport"
LOCAL_ONLY = "report/lokala-versioner"  # versions an older underlag kept only on this disk


@dataclass(frozen=True)
class Publication:
    version: str
    folder: Path  # the local view of the version
    files: list[str]
    dry_run: bool
    commit: str | None = None  # the new commit on the versions branch
    warnings: list[str] = field(default_factory=list)


def publish(root: Path, version: str, status: str | None = None, dry_run: bool = False,
            progress: Callable[[str], None] = lambda _: None, profile: str | None = None) -> Publication:
    root = root.resolve()
    if not SEMVER.match(version):
        raise UsageError(_("publish.bad_version", version=version))
    require_repository(root)
    _refuse_existing(root, version, read_history(root))  # at once, before the lock and the build
    with project_lock(root, purpose="publish"):
        history = read_history(root)  # again: another publish may have finished while we waited
        _refuse_existing(root, version, history)
        inputs = tracked(root, list(INPUTS))
        links = special_files(root, inputs)
        if links:  # before anything reads the tree through them
            raise InputError(links)
        effective = status or document_status(root, profile)
        problems = [replace(p, severity="error") for p in scan_project(root)]  # a warning in a build, a stop here
        problems += uncommitted(root, list(INPUTS)) + status_problems(root, effective)
        if problems:
            raise InputError(problems)
        warnings = [] if history.commit else [missing_history_warning()]
        target = root / VERSIONS_DIR / version
        if dry_run:
            planned = [f"{name}{ext}" for name, ext in _output_names(root, profile)] + [
                "manifest.json", "CHANGELOG.md", f"{INPUTS_DIR}/"]
            return Publication(version, target, planned, True, None, warnings)
        temporary = root / OUTPUT_DIR / f".build-publish-{version}-{os.getpid()}"
        try:
            outputs, editions = _build_editions(root, temporary, version, status, profile, progress)
            progress(_("progress.publish_saving"))
            copy_tracked(root, inputs, temporary / INPUTS_DIR)
            published = publication_epoch()
            _write_changelog(root, temporary, version, history, published)
            manifest = _write_manifest(root, temporary, version, effective, outputs, editions, profile, published)
            index = index_page(root, history, {version: manifest})
            progress(_("progress.publish_committing", version=version, branch=BRANCH))
            commit = commit_version(root, history, version, temporary, inputs, INPUTS_DIR,
                                    {"index.html": index, ".nojekyll": b""}, published)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        warnings += [_("publish.local_only", folder=f"{VERSIONS_DIR}/{name}", branch=BRANCH, moved=f"{LOCAL_ONLY}/{name}")
                     for name in refresh_view(root, commit)]
    return Publication(version, target, sorted(p.name for p in target.iterdir()), False, commit, warnings)


def _refuse_existing(root: Path, version: str, history: History) -> None:
    if version in published_versions(root, history):
        where = "origin/" + BRANCH if history.source == REMOTE else BRANCH
        raise UsageError(_("publish.already_published", version=version, where=where))


def missing_history_warning() -> str:
    return _("publish.no_history", branch=BRANCH)


def publication_epoch() -> int:
    """When the version is published: SOURCE_DATE_EPOCH when set (a reproducible run), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(value) if value.isdigit() else int(time.time())


def _build_editions(root: Path, folder: Path, version: str, status: str | None, profile: str | None,
                    progress: Callable[[str], None]) -> tuple[dict[str, Path], dict[str, dict]]:
    """Every format of the report and of every edition; which files belong to which edition."""
    # what is published carries the contents' page numbers (LibreOffice's layout), not Word's note
    options = Options(profile=profile, version=version, status=status, docx_page_numbers=True)
    main = build_into(root, folder, options, progress).outputs
    outputs = dict(main)
    editions = {MAIN_EDITION: {p.name: fmt for fmt, p in main.items()}}
    for edition, formats in read_book(root, profile).editions:
        progress(_("progress.edition", edition=edition))
        edition_options = Options(formats=formats, profile=edition, version=version, status=status,
                                  docx_page_numbers=True)
        built = build_into(root, folder, edition_options, progress).outputs
        outputs.update({f"{edition}-{fmt}": path for fmt, path in built.items()})
        editions[edition.capitalize()] = {p.name: fmt for fmt, p in built.items()}
    return outputs, editions


def _output_names(root: Path, profile: str | None) -> list[tuple[str, str]]:
    from underlag.commands.build import EXTENSIONS

    book = read_book(root, profile)
    names = [(book.output_name, EXTENSIONS[fmt]) for fmt in FORMATS]
    for edition, formats in book.editions:
        names += [(read_book(root, edition).output_name, EXTENSIONS[fmt]) for fmt in formats]
    return names


def document_status(root: Path, profile: str | None) -> str:
    """The status the version would carry without --status: `status:` in the book's metadata
    (data/rapport.yaml through metadata-files, or _quarto.yml), as the cover and footers show it."""
    return str(read_book(root, profile).metadata.get("status") or "utkast")


def status_problems(root: Path, status: str) -> list[Problem]:
    """Every item less settled than the version's status allows, located; none for utkast."""
    from underlag.report.checks import check_alternative_count, non_final_items
    from underlag.report.load import load_report

    required = REQUIRED.get(status, 0)
    if required == 0:
        return []
    try:
        report, _warnings = load_report(root)
    except InputError as exc:  # the data's own errors say what to fix first
        return list(exc.problems)
    problems = [_unsettled(record, "publish.unsettled_item", status, label=_label(record), value=value)
                for record, _field, value in non_final_items(report) if SETTLED[value] < required]
    for alt in report.alternatives:  # a missing part ranks with exempel: below every status that requires one
        for part in alt.saknas:
            problems.append(_unsettled(alt, "publish.unsettled_missing", status, id=alt.id, part=part))
    # a draft may hold fewer than three alternatives; a version beyond utkast may not
    return problems + check_alternative_count(report, "data/alternativ", status)


def _unsettled(record, key: str, status: str, **params) -> Problem:
    path, line = record.origin or ("data", None)
    allowed = ", ".join(name for name, rank in SETTLED.items() if rank >= REQUIRED[status])
    return Problem(path, line, None, _(key, status=status, allowed=allowed, **params))


# what a writer knows a record by when it has no text, title or name of its own (a type name such
# as 'Assessment' says nothing to the writer who has to find the row)
DESCRIBED = {  # type -> (catalogue key, the record's fields the message names)
    "Assessment": ("publish.described.assessment", lambda r: {"alternative": r.alternative, "criterion": r.criterion}),
    "CostLine": ("publish.described.cost_line", lambda r: {"item": r.item, "alternative": r.alternative,
                                                           "first": r.first_year, "last": r.last_year}),
    "TaskTime": ("publish.described.task_time", lambda r: {"task": _short(r.task), "alternative": r.alternative}),
    "Criteria": ("publish.described.criteria", lambda r: {}),
    "CostSettings": ("publish.described.cost_settings", lambda r: {}),
    "Decision": ("publish.described.decision", lambda r: {}),
    "Preparation": ("publish.described.preparation", lambda r: {"what": _short(r.what)}),
    "Term": ("publish.described.term", lambda r: {"term": r.term}),
}


def _label(record) -> str:
    if described := DESCRIBED.get(type(record).__name__):
        key, fields = described
        return _(key, **fields(record))
    for name in ("text", "title", "name"):
        value = getattr(record, name, None)
        if value:
            return f"'{_short(str(value))}'"
    return type(record).__name__


def _short(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _write_changelog(root: Path, folder: Path, version: str, history: History, published: int) -> None:
    from underlag.report.load import load_report

    report, _warnings = load_report(root)
    changes = changes_since_previous(root, report, version, history)
    previous = read_file(root, history, f"{changes.since}/CHANGELOG.md") if changes.since else None
    date = dt.datetime.fromtimestamp(published, dt.timezone.utc).date().isoformat()
    log = changelog(version, date, changes, previous.decode("utf-8") if previous else "")
    (folder / "CHANGELOG.md").write_text(log, "utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_manifest(root: Path, folder: Path, version: str, status: str, outputs: dict[str, Path],
                    editions: dict[str, dict], profile: str | None, published: int) -> dict:
    book = read_book(root, profile)
    revision = source_revision(root)
    inputs = folder / INPUTS_DIR
    manifest = {
        "version": version,
        "status": status,
        "date": str(book.metadata.get("date", "")),
        "title": book.title,
        "published_at": dt.datetime.fromtimestamp(published, dt.timezone.utc).isoformat(timespec="seconds"),
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source_date_epoch": source_date_epoch(root),
        "git": {"revision": revision.removesuffix("+ändrad"), "clean": not revision.endswith("+ändrad")},
        "tools": tool_versions(),
        "editions": editions,
        "outputs": {path.name: sha256(path) for path in sorted(outputs.values())},
        "inputs": {p.relative_to(inputs).as_posix(): sha256(p) for p in sorted(inputs.rglob("*")) if p.is_file()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return manifest


def tool_versions() -> dict[str, str]:
    from underlag.engine.render.pandoc import pandoc_path

    pandoc = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    versions = {"python": platform.python_version(), "pandoc": pandoc.removeprefix("pandoc ").strip()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def index_page(root: Path, history: History, new: dict[str, dict]) -> bytes:
    """index.html for the branch's root: every version, newest first, with its publication date
    beside the document's own date and each edition's files labelled. Links are relative, so
    the branch served as it is (GitHub Pages, any web server) is the versions' site."""
    manifests = dict(new)
    for version in published_versions(root, history):
        content = read_file(root, history, f"{version}/manifest.json")
        manifests.setdefault(version, json.loads(content or b"{}"))
    rows = [_index_row(version, manifests[version]) for version in sorted(manifests, key=version_key, reverse=True)]
    title = "Publicerade versioner"
    page = f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans", Arial, sans-serif; color: #1a1a1a; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; }}
h1 {{ color: #005b99; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; vertical-align: top; padding: .4rem .6rem; border-bottom: 1px solid #8c8c8c; }}
thead th {{ background: #e3edf5; }}
ul {{ list-style: none; margin: 0; padding: 0; }}
a {{ color: #005b99; margin-right: .6rem; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<table>
<caption>Versioner av beslutsunderlaget, den senaste först</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Publicerad</th><th scope="col">Dokumentets datum</th>\
<th scope="col">Status</th><th scope="col">Utgåvor</th><th scope="col">Spårbarhet</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</main>
</body>
</html>
"""
    return page.encode("utf-8")


def _index_row(version: str, manifest: dict) -> str:
    v = escape(version)
    editions = manifest.get("editions") or {name.rsplit(".", 1)[0]: {name: name.rsplit(".", 1)[-1]}
                                            for name in manifest.get("outputs", {})}
    items = []
    for label, files in editions.items():
        links = " ".join(f'<a href="{v}/{escape(name)}">{escape(FORMAT_NAMES.get(fmt, fmt.upper()))}</a>'
                         for name, fmt in files.items())
        items.append(f"<li><strong>{escape(label)}:</strong> {links}</li>")
    published = str(manifest.get("published_at", ""))[:10]
    return (f'<tr><th scope="row">{v}</th><td>{escape(published)}</td><td>{escape(str(manifest.get("date", "")))}</td>'
            f'<td>{escape(str(manifest.get("status", "")))}</td><td><ul>{"".join(items)}</ul></td>'
            f'<td><a href="{v}/CHANGELOG.md">Ändringar</a> <a href="{v}/manifest.json">Manifest</a></td></tr>')


def refresh_view(root: Path, commit: str) -> list[str]:
    """report/versions/ rewritten as a copy of the branch: a local view, never a second truth.

    A version folder the branch does not hold (published by an older underlag, before versions
    lived in Git) is moved to report/lokala-versioner/ rather than deleted; returns what moved."""
    view = root / VERSIONS_DIR
    fresh = root / OUTPUT_DIR / f".build-versions-{os.getpid()}"
    old = root / OUTPUT_DIR / f".build-versions-old-{os.getpid()}"
    shutil.rmtree(fresh, ignore_errors=True)
    extract(root, commit, fresh)
    moved = []
    if view.is_symlink() or view.is_file():
        view.unlink()
    elif view.exists():
        for folder in sorted(view.iterdir()):
            if SEMVER.match(folder.name) and folder.is_dir() and not (fresh / folder.name).exists():
                keep = root / LOCAL_ONLY / folder.name
                keep.parent.mkdir(parents=True, exist_ok=True)
                os.rename(folder, keep if not keep.exists() else keep.with_name(f"{folder.name}-{os.getpid()}"))
                moved.append(folder.name)
        os.rename(view, old)
    os.rename(fresh, view)
    shutil.rmtree(old, ignore_errors=True)
    return moved
