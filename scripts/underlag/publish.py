"""Publishing numbered versions into report/versions/X.Y.Z/: atomic, traceable, never overwritten.

A version folder holds every format, a copy of the inputs it was built from, a manifest
(sha256 of every output and input, git revision, tool versions, build time) and a changelog
against the previous version. It is built in a temporary folder and renamed into place, so
a failed or killed publish leaves nothing that looks like a version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import platform
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape
from importlib import metadata
from pathlib import Path

from .book import read_book
from .build import FORMATS, Options, build_into, source_date_epoch, source_revision
from .changes import (INPUTS_DIR, SEMVER, VERSIONS_DIR, changelog, changes_since_previous, published_versions,
                      version_key)
from .errors import InputError, Problem, UsageError
from .files import project_lock, write_if_changed
from .privacy import scan_project

INPUTS = ("_variables.yml", "data", "chapters", "templates")  # plus every _quarto*.yml
PACKAGES = ("underlag", "pydantic", "PyYAML", "Jinja2", "matplotlib", "numpy", "pandas", "python-docx",
            "pypandoc-binary", "typst", "rich")
UNSETTLED = ("exempel", "preliminär", "förslag")


@dataclass(frozen=True)
class Publication:
    version: str
    folder: Path
    files: list[str]
    dry_run: bool


def publish(root: Path, version: str, status: str | None = None, dry_run: bool = False,
            progress: Callable[[str], None] = lambda _: None, profile: str | None = None) -> Publication:
    root = root.resolve()
    if not SEMVER.match(version):
        raise UsageError(f"--version '{version}' is not a version such as 1.2.0 (major.minor.patch)")
    target = root / VERSIONS_DIR / version
    if target.exists():
        raise UsageError(f"version {version} is already published in {VERSIONS_DIR}/{version}; published "
                         "versions are never overwritten: publish with a new version number")
    with project_lock(root):
        personal_data = scan_project(root)
        if personal_data:  # a warning while writing, a stop before anything is published
            raise InputError([replace(p, severity="error") for p in personal_data])
        if status == "fastställd":
            status_gate(root)
        planned = [f"{name}{ext}" for name, ext in _output_names(root, profile)] + ["manifest.json", "CHANGELOG.md",
                                                                           f"{INPUTS_DIR}/"]
        if dry_run:
            return Publication(version, target, planned, True)
        temporary = root / VERSIONS_DIR / f".tmp-{version}-{os.getpid()}"
        try:
            options = Options(profile=profile, version=version, status=status)
            outputs = dict(build_into(root, temporary, options, progress).outputs)
            for edition, formats in read_book(root, profile).editions:
                progress(f"bygger utgåvan {edition}")
                edition_options = Options(formats=formats, profile=edition, version=version, status=status)
                built = build_into(root, temporary, edition_options, progress).outputs
                outputs.update({f"{edition}-{fmt}": path for fmt, path in built.items()})
            progress("sparar underlag och manifest")
            _copy_inputs(root, temporary / INPUTS_DIR)
            _write_changelog(root, temporary, version)
            _write_manifest(root, temporary, version, status, outputs, profile)
            os.rename(temporary, target)  # atomic: the version appears whole or not at all
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        write_index(root)
    return Publication(version, target, sorted(p.name for p in target.iterdir()), False)


def _output_names(root: Path, profile: str | None) -> list[tuple[str, str]]:
    from .build import EXTENSIONS

    book = read_book(root, profile)
    names = [(book.output_name, EXTENSIONS[fmt]) for fmt in FORMATS]
    for edition, formats in book.editions:
        names += [(read_book(root, edition).output_name, EXTENSIONS[fmt]) for fmt in formats]
    return names


def status_gate(root: Path) -> None:
    """A `fastställd` version may hold nothing preliminary and nothing missing: list each such part."""
    from .load import iter_records, load_report

    report, _ = load_report(root)
    problems = []
    for record in iter_records(report):
        for field in ("status", "colour_status", "weights_status"):
            value = getattr(record, field, None)
            if value in UNSETTLED:
                path, line = record.origin or ("data", None)
                label = getattr(record, "text", None) or getattr(record, "title", None) or \
                    getattr(record, "name", None) or getattr(record, "id", None) or type(record).__name__
                problems.append(Problem(path, line, None, f"'{_short(str(label))}' is {value}; a fastställd "
                                                          "version may only hold settled content"))
    for alt in report.alternatives:
        for part in alt.saknas:
            path, line = alt.origin or ("data", None)
            problems.append(Problem(path, line, None, f"alternative '{alt.id}' still lacks {part}; a fastställd "
                                                      "version must be complete"))
    if problems:
        raise InputError(problems)


def _short(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _copy_inputs(root: Path, destination: Path) -> None:
    destination.mkdir(parents=True)
    for config in root.glob("_quarto*.yml"):
        shutil.copy2(config, destination / config.name)
    for name in INPUTS:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("_generated", "__pycache__"))
        elif source.is_file():
            shutil.copy2(source, destination / name)


def _write_changelog(root: Path, folder: Path, version: str) -> None:
    from .load import load_report

    report, _ = load_report(root)
    changes = changes_since_previous(root, report, version)
    previous = root / VERSIONS_DIR / changes.since / "CHANGELOG.md" if changes.since else None
    previous_log = previous.read_text("utf-8") if previous and previous.is_file() else ""
    date = dt.datetime.fromtimestamp(source_date_epoch(root) or 0, dt.timezone.utc).date().isoformat()
    (folder / "CHANGELOG.md").write_text(changelog(version, date, changes, previous_log), "utf-8")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _write_manifest(root: Path, folder: Path, version: str, status: str | None, outputs: dict[str, Path],
                    profile: str | None) -> None:
    book = read_book(root, profile)
    revision = source_revision(root)
    inputs = folder / INPUTS_DIR
    manifest = {
        "version": version,
        "status": status or str(book.metadata.get("status", "")),
        "date": str(book.metadata.get("date", "")),
        "title": book.title,
        "built_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "source_date_epoch": source_date_epoch(root),
        "git": {"revision": revision.removesuffix("+ändrad"), "clean": not revision.endswith("+ändrad")},
        "tools": tool_versions(),
        "outputs": {path.name: sha256(path) for path in sorted(outputs.values())},
        "inputs": {p.relative_to(inputs).as_posix(): sha256(p) for p in sorted(inputs.rglob("*")) if p.is_file()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", "utf-8")


def tool_versions() -> dict[str, str]:
    from .render.pandoc import pandoc_path

    pandoc = subprocess.run([pandoc_path(), "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    versions = {"python": platform.python_version(), "pandoc": pandoc.removeprefix("pandoc ").strip()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def write_index(root: Path) -> Path:
    """report/versions/index.html: every published version with its date, status and files."""
    folder = root / VERSIONS_DIR
    rows = []
    for version in sorted(published_versions(root), key=version_key, reverse=True):
        manifest = json.loads((folder / version / "manifest.json").read_text("utf-8"))
        links = " ".join(f'<a href="{escape(version)}/{escape(name)}">{escape(name.rsplit(".", 1)[-1].upper())}</a>'
                         for name in manifest["outputs"])
        rows.append(f"<tr><th scope=\"row\">{escape(version)}</th><td>{escape(manifest['date'])}</td>"
                    f"<td>{escape(manifest['status'])}</td><td>{links} "
                    f'<a href="{escape(version)}/manifest.json">manifest</a> '
                    f'<a href="{escape(version)}/CHANGELOG.md">ändringar</a></td></tr>')
    title = "Publicerade versioner"
    page = f"""<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: "Noto Sans", Arial, sans-serif; color: #1a1a1a; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; }}
h1 {{ color: #005b99; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #8c8c8c; }}
thead th {{ background: #e3edf5; }}
a {{ color: #005b99; margin-right: .6rem; }}
</style>
</head>
<body>
<main>
<h1>{title}</h1>
<table>
<caption>Versioner av beslutsunderlaget, den senaste först</caption>
<thead><tr><th scope="col">Version</th><th scope="col">Datum</th><th scope="col">Status</th><th scope="col">Filer</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
</main>
</body>
</html>
"""
    path = folder / "index.html"
    write_if_changed(path, page.encode("utf-8"))
    return path
