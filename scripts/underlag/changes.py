"""What changed since the previous published version, in sentences a reader cares about.

Each published version keeps a copy of its inputs (`report/versions/X.Y.Z/inputs/`); the
current data is compared with the newest version older than the one being built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import model
from .errors import InputError
from .text import iso_date, number

VERSIONS_DIR = "report/versions"
INPUTS_DIR = "inputs"
SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


@dataclass(frozen=True)
class Change:
    kind: Literal["added", "changed", "removed"]
    text: str


@dataclass(frozen=True)
class Changes:
    since: str | None  # the previous version, or None for the first one
    items: list[Change] = field(default_factory=list)


def version_key(version: str) -> tuple[int, int, int]:
    match = SEMVER.match(version)
    if not match:
        raise ValueError(version)
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def published_versions(root: Path) -> list[str]:
    """Versions with a manifest, oldest first."""
    folder = root / VERSIONS_DIR
    found = [p.name for p in folder.glob("*") if SEMVER.match(p.name) and (p / "manifest.json").is_file()]
    return sorted(found, key=version_key)


def previous_version(root: Path, version: str | None) -> str | None:
    older = [v for v in published_versions(root) if version is None or version_key(v) < version_key(version)]
    return older[-1] if older else None


def changes_since_previous(root: Path, report: model.Report, version: str | None) -> Changes:
    from .load import load_report

    since = previous_version(root, version)
    if since is None:
        return Changes(None)
    old_root = root / VERSIONS_DIR / since / INPUTS_DIR
    try:
        old, _ = load_report(old_root)
    except InputError:
        return Changes(since, [Change("changed", f"Underlaget i version {since} går inte att jämföra automatiskt.")])
    return Changes(since, compare(old, report) + compare_chapters(old_root, root))


def _score(value: float) -> str:
    return number(value, 1).replace(",0", "")


def compare(old: model.Report, new: model.Report) -> list[Change]:
    return [*_alternatives(old, new), *_scores(old, new), *_weights(old, new), *_milestones(old, new),
            *_risks(old, new), *_decision(old, new)]


def _alternatives(old: model.Report, new: model.Report) -> list[Change]:
    before = {a.id: a for a in old.alternatives}
    after = {a.id: a for a in new.alternatives}
    changes = [Change("added", f"Alternativ {a.order}, {a.short_title}, har lagts till.")
               for a in new.alternatives if a.id not in before]
    changes += [Change("removed", f"Alternativ {a.order}, {a.short_title}, har tagits bort.")
                for a in old.alternatives if a.id not in after]
    for alt_id in before.keys() & after.keys():
        a, b = before[alt_id], after[alt_id]
        if a.model_dump(exclude={"order"}) != b.model_dump(exclude={"order"}):
            changes.append(Change("changed", f"Beskrivningen av alternativ {b.order}, {b.short_title}, har ändrats."))
    return changes


def _scores(old: model.Report, new: model.Report) -> list[Change]:
    before = {(a.alternative, a.criterion): a for a in old.assessments}
    names = {c.id: c.name.lower() for c in new.criteria.all}
    orders = {a.id: a.order for a in new.alternatives}
    changes = []
    for a in new.assessments:
        previous = before.get((a.alternative, a.criterion))
        if previous is not None and previous.score != a.score and a.alternative in orders:
            changes.append(Change("changed", f"Poängen för alternativ {orders[a.alternative]} på "
                                             f"{names.get(a.criterion, a.criterion)} har ändrats från "
                                             f"{_score(previous.score)} till {_score(a.score)}. "
                                             f"Ny motivering: {a.rationale.rstrip('.')}."))
    return changes


def _weights(old: model.Report, new: model.Report) -> list[Change]:
    from .analysis import effective_weights

    before, after = effective_weights(old.criteria), effective_weights(new.criteria)
    names = {c.id: c.name for c in new.criteria.all}
    return [Change("changed", f"Vikten för {names[c].lower()} har ändrats från {number(before[c] * 100)} procent "
                              f"till {number(after[c] * 100)} procent.")
            for c in after.index if c in before.index and abs(before[c] - after[c]) > 1e-9]


def _milestones(old: model.Report, new: model.Report) -> list[Change]:
    before = {m.id: m for m in old.milestones.milestones}
    labels = {"planned": "planerat datum", "forecast": "prognos", "actual": "verkligt datum"}
    changes = []
    for m in new.milestones.milestones:
        previous = before.get(m.id)
        if previous is None:
            changes.append(Change("added", f"Milstolpe {m.id}, {m.name}, har lagts till."))
            continue
        moved = [f"{label} från {iso_date(getattr(previous, key)) or 'inget'} till {iso_date(getattr(m, key)) or 'inget'}"
                 for key, label in labels.items() if getattr(previous, key) != getattr(m, key)]
        if moved:
            changes.append(Change("changed", f"Milstolpe {m.id}, {m.name}, har ändrats: {', '.join(moved)}."))
    return changes


def _risks(old: model.Report, new: model.Report) -> list[Change]:
    before, after = {r.id for r in old.risks}, {r.id for r in new.risks}
    return ([Change("added", f"Risken ”{r.title}” har lagts till.") for r in new.risks if r.id not in before]
            + [Change("removed", f"Risken ”{r.title}” har tagits bort.") for r in old.risks if r.id not in after])


def _decision(old: model.Report, new: model.Report) -> list[Change]:
    if old.decision == new.decision:
        return []
    return [Change("changed", "Förslaget till beslut har ändrats.")]


def compare_chapters(old_root: Path, new_root: Path) -> list[Change]:
    def chapters(root: Path) -> dict[str, str]:
        folder = root / "chapters"
        return {p.relative_to(folder).as_posix(): p.read_text("utf-8")
                for p in folder.rglob("*.qmd") if "_generated" not in p.parts}

    before, after = chapters(old_root), chapters(new_root)
    changes = [Change("changed", f"Texten i kapitlet ”{_title(text, name)}” har ändrats.")
               for name, text in sorted(after.items()) if name in before and before[name] != text]
    changes += [Change("added", f"Kapitlet ”{_title(text, name)}” har lagts till.")
                for name, text in sorted(after.items()) if name not in before]
    changes += [Change("removed", f"Kapitlet ”{_title(text, name)}” har tagits bort.")
                for name, text in sorted(before.items()) if name not in after]
    return changes


def _title(text: str, fallback: str) -> str:
    match = re.search(r"^#\s+(.+?)(\s+\{.*\})?\s*$", text, re.MULTILINE)
    return match.group(1) if match else fallback


KEEP_A_CHANGELOG = {"added": "Added", "changed": "Changed", "removed": "Removed"}


def changelog(version: str, date: str, changes: Changes, previous_log: str = "") -> str:
    """CHANGELOG.md in Keep a Changelog form, newest version first."""
    head = ("# Ändringslogg\n\nÄndringar i beslutsunderlaget mellan publicerade versioner.\n"
            "Formatet följer Keep a Changelog (https://keepachangelog.com/sv/1.1.0/).\n")
    section = [f"## [{version}] - {date}"]
    if changes.since is None:
        section.append("\n### Added\n\n- Första publicerade versionen.")
    for kind, title in KEEP_A_CHANGELOG.items():
        items = [c.text for c in changes.items if c.kind == kind]
        if items:
            section.append(f"\n### {title}\n\n" + "\n".join(f"- {text}" for text in items))
    older = previous_log.split("\n## ", 1)[1] if "\n## " in previous_log else ""
    return head + "\n" + "\n".join(section) + "\n" + (f"\n## {older}" if older else "")
