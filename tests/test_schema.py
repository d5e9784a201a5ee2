"""The JSON Schemas writers' editors use: in sync with the model, wired to every data file, and
accepting the real data."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import jsonschema
import yaml
from conftest import PROJECT

from underlag.report.schema import SCHEMA_DIR, data_files, modeline, schemas


def _shape(schema: dict) -> dict:
    """The fields and required fields of every object in a schema: what an editor completes on.
    (The exact JSON differs between pydantic versions; the shape must not.)"""
    objects = {"": schema, **schema.get("$defs", {})}
    return {name: (sorted(obj.get("properties", {})), sorted(obj.get("required", [])))
            for name, obj in objects.items() if obj.get("type") == "object"}


def test_committed_schemas_match_the_model():
    """Run `underlag schema` after changing the model; this test says when that was forgotten."""
    for stem, schema in schemas().items():
        committed = json.loads((PROJECT / SCHEMA_DIR / f"{stem}.schema.json").read_text("utf-8"))
        assert _shape(committed) == _shape(schema), f"{stem}: run `underlag schema`"


def _plain(value):
    """YAML dates as the strings an editor's validator sees."""
    return json.loads(json.dumps(value, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v)))


def test_every_data_file_names_its_schema_and_passes_it():
    files = data_files(PROJECT)
    assert len(files) >= 16
    for path, stem in files:
        first = path.read_text("utf-8").splitlines()[0]
        relative_dir = ".." if path.parent.name == "alternativ" else "."
        assert first == modeline(Path(relative_dir), stem), path
        schema = json.loads((path.parent / first.split("=", 1)[1]).read_text("utf-8"))
        jsonschema.validate(_plain(yaml.safe_load(path.read_text("utf-8"))), schema)


def test_schema_rejects_a_typo_as_an_editor_would():
    schema = schemas()["alternativ"]
    data = _plain(yaml.safe_load((PROJECT / "data/alternativ/alt1-uppdaterad-millennium.yaml").read_text("utf-8")))
    data["titel"] = data.pop("title")
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(data)]
    assert any("'title' is a required property" in e for e in errors)
    assert any("'titel' was unexpected" in e for e in errors)
