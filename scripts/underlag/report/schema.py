"""JSON Schemas of the data files, so writers' editors can complete and underline.

`underlag schema` writes `data/schemas/<name>.schema.json` from the pydantic models and makes
sure each YAML data file starts with the `# yaml-language-server: $schema=…` line that
editors (VS Code with the YAML extension, and others using yaml-language-server) read.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from underlag.report import model
from underlag.engine.files import write_if_changed
from underlag.report.load import ALTERNATIVES_DIR, DATA_FILES

SCHEMA_DIR = "data/schemas"
MODELINE = "# yaml-language-server: $schema="


def schemas() -> dict[str, dict]:
    """Schema per data file stem; all alternatives share one."""
    models: dict[str, type[BaseModel]] = {Path(name).stem: file_model for name, (_, file_model) in DATA_FILES.items()}
    models[ALTERNATIVES_DIR] = model.Alternative
    return {stem: file_model.model_json_schema() for stem, file_model in sorted(models.items())}


def schema_text(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schemas(root: Path) -> list[Path]:
    """Write the schemas and the editors' modelines; return the files that changed.

    Refused while a link leads out of the project: the modelines rewrite the data files."""
    from underlag.engine.confine import confinement_problems
    from underlag.engine.errors import InputError

    if links := confinement_problems(root):
        raise InputError(links)
    out_dir = root / SCHEMA_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = [path for stem, schema in schemas().items()
               if write_if_changed(path := out_dir / f"{stem}.schema.json", schema_text(schema).encode("utf-8"))]
    for path, stem in data_files(root):
        changed += _ensure_modeline(path, Path("..") if path.parent.name == ALTERNATIVES_DIR else Path("."), stem)
    return changed


def data_files(root: Path) -> list[tuple[Path, str]]:
    """Every YAML data file with the stem of its schema."""
    data = root / "data"
    files = [(data / name, Path(name).stem) for name in DATA_FILES]
    files += [(path, ALTERNATIVES_DIR) for path in sorted((data / ALTERNATIVES_DIR).glob("*.yaml"))]
    return [(path, stem) for path, stem in files if path.is_file()]


def modeline(relative_dir: Path, stem: str) -> str:
    return f"{MODELINE}{(relative_dir / 'schemas' / f'{stem}.schema.json').as_posix()}"


def _ensure_modeline(path: Path, relative_dir: Path, stem: str) -> list[Path]:
    text = path.read_text("utf-8")
    wanted = modeline(relative_dir, stem)
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith(MODELINE):
        lines = lines[1:]
    new = wanted + "\n" + "".join(lines)
    return [path] if write_if_changed(path, new.encode("utf-8")) else []
