"""`underlag accessibility`: check the built HTML and PDF and record what the checks found in
data/tillganglighet.yaml, which the accessibility statement is written from; then build again so
the statement says it.

The record is an input like the other data files: commit it with the version it describes, so the
build server prints the same statement from a fresh clone."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Callable

import yaml

from underlag.commands.build import Options, build
from underlag.engine.accessibility import check_html, check_pdf
from underlag.engine.confine import confinement_problems
from underlag.engine.errors import InputError
from underlag.engine.files import write_if_changed
from underlag.engine.messages import text as _

RECORD = "data/tillganglighet.yaml"
HEADER = ("# Skrivs av `underlag accessibility` från vad granskningen av webb- och PDF-versionen hittade.\n"
          "# Tillgänglighetsredogörelsen skrivs från den här filen. Ändra inte för hand: granska igen.\n")


def check_and_record(root: Path, progress: Callable[[str], None] = lambda _: None) -> dict:
    """Build the HTML and PDF, check them, write the record and build again with it.
    Refused while a link leads out of the project: the record is written into data/."""
    if links := confinement_problems(root):
        raise InputError(links)
    outputs = build(root, Options(formats=("html", "pdf")), progress).outputs
    progress(_("progress.axe"))
    record = {"granskad": dt.date.today().isoformat(), "webb": check_html(outputs["html"])}
    progress(_("progress.pdfua"))
    record["pdf"] = check_pdf(outputs["pdf"])
    text = HEADER + yaml.safe_dump(record, allow_unicode=True, sort_keys=False)
    write_if_changed(root / RECORD, text.encode("utf-8"))
    build(root, Options(), progress)
    return record
