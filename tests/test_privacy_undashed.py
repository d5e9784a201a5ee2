"""A personal identity number is found without its separator too (only the dashed form was tested)."""

from __future__ import annotations

from underlag.engine.messages import text as message
from underlag.engine.privacy import scan_text


def test_an_undashed_identity_number_is_found():
    # 19121212-1212 is Skatteverket's test person; written as twelve or ten digits without the dash
    for text in ("Patienten 191212121212 ringde.", "Patienten 1212121212 ringde."):
        hits = scan_text(text, set())
        assert [(line, column) for line, column, _ in hits] == [(1, 11)], text
        assert hits[0][2] == message("privacy.identity")
