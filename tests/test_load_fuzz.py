"""Property tests: whatever a data file holds, loading it ends in a model or in InputError."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from underlag.report import model
from underlag.report.load import DATA_FILES, _load_yaml_file, load_csv

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), st.dates().map(str))
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=4),
    st.dictionaries(st.sampled_from(["id", "title", "text", "source", "status", "points", "order", "x"]) | st.text(max_size=8),
                    children, max_size=5)), max_leaves=20)
MODELS = [m for _, m in DATA_FILES.values()] + [model.Alternative]
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def load(tmp_path: Path, text: str, file_model) -> None:
    """Loading ends in exactly one of: a model and no problem, or no model and at least one
    problem placed in this file (with a line, so the writer can find it)."""
    path = tmp_path / "data" / "fil.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, "utf-8")
    problems: list = []
    loaded = _load_yaml_file(path, file_model, tmp_path, problems)
    if loaded is not None:
        assert isinstance(loaded, file_model) and not problems
    else:
        assert problems, "no model and no problem: the input was swallowed"
        assert all(p.path == "data/fil.yaml" for p in problems)
        assert any(p.line is not None for p in problems), problems


@SETTINGS
@given(text=st.text(max_size=300), file_model=st.sampled_from(MODELS))
def test_any_text_loads_or_reports(tmp_path, text, file_model):
    load(tmp_path, text, file_model)  # an InputError escaping here would be a crash of the loader


@SETTINGS
@given(value=values, file_model=st.sampled_from(MODELS))
def test_any_yaml_structure_loads_or_reports(tmp_path, value, file_model):
    load(tmp_path, yaml.safe_dump(value, allow_unicode=True), file_model)


@SETTINGS
@given(rows=st.lists(st.lists(st.text(alphabet="alt123;,.−-5 \"\n", max_size=12), min_size=1, max_size=9),
                     max_size=5))
def test_any_csv_loads_or_reports(tmp_path, rows):
    path = tmp_path / "data" / "bedomningar.csv"
    path.parent.mkdir(exist_ok=True)
    header = ";".join(model.Assessment.model_fields)
    path.write_text(header + "\n" + "\n".join(";".join(r) for r in rows), "utf-8")
    problems: list = []
    records = load_csv(path, model.Assessment, tmp_path, problems)
    # every data row is a record or is reported at its own line of this file
    assert all(p.path == "data/bedomningar.csv" and p.line is not None for p in problems), problems
    content = "".join("".join(r) for r in rows)
    assert records or problems or not re.sub(r'[;\s"]', "", content)  # rows with content: a record or a problem
