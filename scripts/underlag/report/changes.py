"""What changed since the previous published version, in sentences a reader cares about.

Every published version keeps a copy of its inputs on the Git branch `versioner`
(`<version>/inputs/`, see history.py); the current data is compared with the inputs of the
newest version older than the one being built, as the branch holds them, so a fresh clone on a
build server computes the same changes as the writer's own machine.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from underlag.report import model
from underlag.engine.errors import InputError
from underlag.engine.history import SEMVER, GitError, History, extract, published_versions, read_history
from underlag.report.text import iso_date, number

VERSIONS_DIR = "report/versions"  # a local view of the branch, rewritten after every publish
INPUTS_DIR = "inputs"


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


def previous_version(root: Path, version: str | None, history: History | None = None) -> str | None:
    history = history or read_history(root)
    older = [v for v in published_versions(root, history) if version is None or version_key(v) < version_key(version)]
    return older[-1] if older else None


def changes_since_previous(root: Path, report: model.Report, version: str | None,
                           history: History | None = None) -> Changes:
    from underlag.report.load import load_report

    history = history or read_history(root)
    since = previous_version(root, version, history)
    if since is None:
        return Changes(None)
    with tempfile.TemporaryDirectory(prefix="underlag-previous-") as temporary:
        old_root = Path(temporary)
        try:
            extract(root, f"{history.commit}:{since}/{INPUTS_DIR}", old_root)
            old, _ = load_report(old_root)
        except (InputError, GitError):  # a version without inputs, or with data this code no longer reads
            return Changes(since, [Change("changed", f"Underlaget i version {since} går inte att jämföra "
                                                     "automatiskt.")])
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
    for b in new.alternatives:  # in the report's order: the same text from every run
        a = before.get(b.id)
        parts = [label for key, label in ALTERNATIVE_PARTS.items() if a and getattr(a, key) != getattr(b, key)]
        if parts:
            changes.append(Change("changed", f"Alternativ {b.order}, {b.short_title}: {_and(parts)} har ändrats."))
    return changes


ALTERNATIVE_PARTS = {"title": "rubriken", "early_title": "rubriken i det tidiga förslaget",
                     "short_title": "kortnamnet", "subtitle": "underrubriken", "points": "beskrivningen", "consequences": "konsekvenserna",
                     "rollout_variants": "utrullningsvarianterna", "swot": "styrkor, svagheter, möjligheter och hot",
                     "saknas": "det som ännu saknas"}


def _and(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " och " + parts[-1]


def _scores(old: model.Report, new: model.Report) -> list[Change]:
    before = {(a.alternative, a.criterion): a for a in old.assessments}
    names = {c.id: c.name.lower() for c in new.criteria.all}
    orders = {a.id: a.order for a in new.alternatives}
    changes = []
    for a in new.assessments:
        previous = before.get((a.alternative, a.criterion))
        if previous is None or a.alternative not in orders:
            continue
        where = f"alternativ {orders[a.alternative]} på {names.get(a.criterion, a.criterion)}"
        rationale = f" Ny motivering: {a.rationale.rstrip('.')}." if previous.rationale != a.rationale else ""
        if previous.score != a.score:
            changes.append(Change("changed", f"Poängen för {where} har ändrats från {_score(previous.score)} "
                                             f"till {_score(a.score)}.{rationale}"))
        elif rationale:
            changes.append(Change("changed", f"Motiveringen för {where} har ändrats: {a.rationale.rstrip('.')}."))
    return changes


def _weights(old: model.Report, new: model.Report) -> list[Change]:
    from underlag.report.analysis import effective_weights

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


RISK_FIELDS = {"description": "beskrivningen", "alternatives": "berörda alternativ", "mitigation": "åtgärden",
               "owner": "ansvarig", "status": "status", "source": "källan"}


def _risks(old: model.Report, new: model.Report) -> list[Change]:
    before, after = {r.id: r for r in old.risks}, {r.id: r for r in new.risks}
    changes = [Change("added", f"Risken ”{r.title}” har lagts till.") for r in new.risks if r.id not in before]
    changes += [Change("removed", f"Risken ”{r.title}” har tagits bort.") for r in old.risks if r.id not in after]
    for risk in new.risks:
        previous = before.get(risk.id)
        if previous is None:
            continue
        said = [f"rubriken var ”{previous.title}”"] if previous.title != risk.title else []
        said += [f"{label} från {getattr(previous, key)} till {getattr(risk, key)}"
                 for key, label in (("probability", "sannolikhet"), ("consequence", "konsekvens"))
                 if getattr(previous, key) != getattr(risk, key)]
        said += [f"{label} har ändrats" for key, label in RISK_FIELDS.items()
                 if getattr(previous, key) != getattr(risk, key)]
        if said:
            changes.append(Change("changed", f"Risken ”{risk.title}” har ändrats: {', '.join(said)}."))
    return changes


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
    changes = [Change("changed", f"Texten i kapitlet ”{_title(text, name)}” har ändrats: "
                                 f"{word_diff(before[name], text)}")
               for name, text in sorted(after.items()) if name in before and before[name] != text]
    changes += [Change("added", f"Kapitlet ”{_title(text, name)}” har lagts till.")
                for name, text in sorted(after.items()) if name not in before]
    changes += [Change("removed", f"Kapitlet ”{_title(text, name)}” har tagits bort.")
                for name, text in sorted(before.items()) if name not in after]
    return changes


def _title(text: str, fallback: str) -> str:
    match = re.search(r"^#\s+(.+?)(\s+\{.*\})?\s*$", text, re.MULTILINE)
    return match.group(1) if match else fallback


def _paragraphs(text: str) -> list[str]:
    return [" ".join(block.split()) for block in re.split(r"\n\s*\n", text) if block.strip()]


def _quote(words: list[str], limit: int = 12) -> str:
    text = " ".join(words[:limit]) + (" …" if len(words) > limit else "")
    return f"”{text}”"


def word_diff(old: str, new: str, most: int = 4) -> str:
    """The changed words of the changed paragraphs, in a sentence: what a reader must re-read."""
    said: list[str] = []
    before, after = _paragraphs(old), _paragraphs(new)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before, after, autojunk=False).get_opcodes():
        if tag == "insert":
            said += [f"nytt stycke {_quote(p.split())}" for p in after[j1:j2]]
        elif tag == "delete":
            said += [f"stycket {_quote(p.split())} har tagits bort" for p in before[i1:i2]]
        elif tag == "replace":
            old_words = " ".join(before[i1:i2]).split()
            new_words = " ".join(after[j1:j2]).split()
            said += _changed_words(old_words, new_words)
    if not said:
        return "bara radbrytningar och mellanrum."
    extra = f" och {len(said) - most} ändringar till" if len(said) > most else ""
    return "; ".join(said[:most]) + extra + "."


def _changed_words(old: list[str], new: list[str]) -> list[str]:
    said = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "replace":
            said.append(f"{_quote(old[i1:i2])} har blivit {_quote(new[j1:j2])}")
        elif tag == "insert":
            said.append(f"{_quote(new[j1:j2])} har lagts till")
        elif tag == "delete":
            said.append(f"{_quote(old[i1:i2])} har tagits bort")
    return said


SECTIONS = {"added": "Tillagt", "changed": "Ändrat", "removed": "Borttaget"}
# What makes Markdown inside a list item (GitHub's math too); a backslash keeps each one text, `<img onerror>` too
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]<>|~&$])")


def changelog_text(text: str) -> str:
    """Data or prose as literal text in a Markdown list item: one line, every active character escaped."""
    return _MARKDOWN_ACTIVE.sub(r"\\\1", " ".join(text.split()))


def changelog(version: str, date: str, changes: Changes, previous_log: str = "") -> str:
    """CHANGELOG.md in Keep a Changelog's form, in Swedish, newest version first."""
    head = ("# Ändringslogg\n\nÄndringar i beslutsunderlaget mellan publicerade versioner, den senaste först.\n"
            "Formen följer Keep a Changelog (https://keepachangelog.com/sv/1.1.0/).\n")
    section = [f"## [{version}] - {date}"]
    if changes.since is None:
        section.append("\n### Tillagt\n\n- Första publicerade versionen.")
    elif not changes.items:
        section.append(f"\nInget i underlaget har ändrats sedan version {changes.since}.")
    for kind, title in SECTIONS.items():
        items = [c.text for c in changes.items if c.kind == kind]
        if items:
            section.append(f"\n### {title}\n\n" + "\n".join(f"- {changelog_text(text)}" for text in items))
    older = previous_log.split("\n## ", 1)[1] if "\n## " in previous_log else ""
    return head + "\n" + "\n".join(section) + "\n" + (f"\n## {older}" if older else "")
