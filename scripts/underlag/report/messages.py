"""The decision-basis layer's messages: its own catalogue (report/locale), read like the engine's."""

from __future__ import annotations

from pathlib import Path

from underlag.engine.messages import Catalogue

REPORT = Catalogue(Path(__file__).parent / "locale", "report")
text = REPORT.text
count = REPORT.count
