#!/usr/bin/env python
"""Mutation testing of the modules that guard data and decisions, with mutmut.

    nice -n 15 python tests/mutation/run.py [--jobs N] [module ...]     (default: every module)

Not collected by pytest (no test_ prefix) and not part of CI's run: it takes minutes per module.
It writes the table of killed / survived / equivalent / no tests / timeout per module into
tests/mutation/RESULTS.md (the rows of the modules it ran; the others are kept), with every
survivor's diff. A survivor that cannot be killed is listed in tests/mutation/equivalent.toml
with the reason; the runner then counts it as equivalent.

Why a copy: mutmut names a mutant after its file path and finds its tests by the module name
the tests import. Our package lives in scripts/underlag and is imported as `underlag`, which
mutmut cannot relate ("scripts.underlag.x" is never imported); it maps only `src/` (and the
project root) to the import root. So each run copies the package to <tmp>/src/underlag, beside a
copy of the project's sources and tests, and runs mutmut there without PYTHONPATH (the mutated
copy must be the only `underlag` the tests can import; the editable install comes later on
sys.path, and mutmut puts its mutants/src first).

The tests chosen per module run in-process (a test that runs `python -m underlag.commands.cli` in a
subprocess never sees a mutant) and fast, so that a surviving mutant costs seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent.parent
PACKAGE = PROJECT / "scripts" / "underlag"
RESULTS = HERE / "RESULTS.md"
EQUIVALENT = HERE / "equivalent.toml"
# every book profile (_quarto-*.yml): conftest.copy_project copies them, and a missing one fails every test
PROJECT_FILES = (*sorted(p.name for p in PROJECT.glob("_quarto*.yml")), "_variables.yml", "chapters", "data", "templates")
IGNORED = shutil.ignore_patterns("__pycache__", "_generated", ".underlag-cache", "report", ".hypothesis")
# the package has a subpackage named report (the decision-basis layer): only caches are left out of it
PACKAGE_IGNORED = shutil.ignore_patterns("__pycache__")
STATUSES = ("killed", "survived", "equivalent", "no tests", "timeout", "other")


@dataclass(frozen=True)
class Target:
    file: str  # in scripts/underlag
    functions: tuple[str, ...]  # mutate only these (mutmut mutant-name patterns); empty: the whole module
    tests: tuple[str, ...]  # pytest selection: files or node ids, in-process and fast


# The unit tests written for these guards (tests/test_guards_*.py) are in every selection:
# mutmut runs, for each mutant, only the selected tests that call the mutated function.
UNIT = ("tests/test_guards_privacy.py", "tests/test_guards_cache_files.py", "tests/test_guards_status_gate.py",
        "tests/test_guards_analysis.py", "tests/test_guards_load.py", "tests/test_guards_checks.py",
        "tests/test_privacy_undashed.py", "tests/test_guards_confine.py", "tests/test_guards_privacy_sources.py",
        "tests/test_guards_sanitize.py", "tests/test_guards_privacy_cache.py")
# Tests whose subject runs in a child process started by the test: no mutant reaches it, and under
# mutmut's trampoline the forked child keeps the lock's descriptor (the at-fork hook runs through
# the trampoline), so the test fails before any mutant is tried
SUBPROCESS_ONLY = ("tests/test_guards_cache_files.py::test_a_forked_child_does_not_keep_the_lock_after_its_parent_dies",)
CORPUS = "tests/test_data_corpus.py::test_bad_data_gives_its_message"
HOSTILE = "tests/test_hostile.py::"  # only its in-process tests are chosen
PATHOLOGICAL = "tests/test_safety.py::test_pathological_inputs_are_refused_or_bounded"
TARGETS = {
    # test_hostile_content.py's scans call scan_project in-process: sources, expansion, allow-list
    "privacy": Target("engine/privacy.py", (), ("tests/test_safety.py::test_luhn_keeps_ordinary_numbers_out",
                                         "tests/test_safety.py::test_false_positives_can_be_marked",
                                         *(f"tests/test_hostile_content.py::{name}" for name in (
                                             "test_personal_data_is_found_at_its_source",
                                             "test_the_reports_own_contact_person_is_allowed_by_a_named_entry",
                                             "test_an_allow_list_entry_must_say_why")))),
    "cache": Target("engine/cache.py", (), ()),
    "files": Target("engine/files.py", (), ()),
    # path confinement: reads inside the project, writes only in the tool's own folders
    "confine": Target("engine/confine.py", (), (f"{HOSTILE}test_confinement_compares_components_not_string_prefixes",)),
    # the publish gate: which items a version of a given status may hold (replaced status_gate)
    "status_problems": Target("commands/publish.py", ("status_problems", "document_status", "_unsettled",
                                             "_label", "_short"), ()),
    # test_analysis.py's other two tests run the whole data stage (figures included): too slow per mutant
    "analysis": Target("report/analysis.py", (), tuple(f"tests/test_analysis.py::{name}" for name in (
        "test_weighted_totals_and_ranks_by_hand", "test_switching_value_by_hand",
        "test_a_dominating_alternative_is_first_in_every_draw", "test_the_same_seed_gives_the_same_numbers",
        "test_scaling_all_weights_leaves_ranks_unchanged", "test_a_dominated_alternative_never_ranks_first"))),
    # the YAML reader every loader uses: size, characters, nesting, aliases, errors to file:line:column
    "guarded_yaml": Target("engine/guarded_yaml.py", (), (CORPUS, PATHOLOGICAL,
                                                   f"{HOSTILE}test_yaml_reads_numbers_and_words_as_yaml_1_2",
                                                   f"{HOSTILE}test_billion_laughs_fails_fast_and_located")),
    # the error paths of the data loaders: CSV parsing, mapping pydantic's errors to file:line. Not the
    # corpus: each case is a whole in-process build (3.5 s), and all ~40 reach the loaders, so a survivor
    # cost 2.5 minutes; test_guards_load.py holds the same paths on one small file each
    "load": Target("report/load.py", ("_load_yaml_file", "_validate", "load_csv", "_read_rows", "_check_header",
                               "_csv_value", "_position", "_problems_from_errors"), (PATHOLOGICAL,)),
    # not the corpus either, for the same reason: test_guards_checks.py changes the real report in memory
    "checks": Target("report/checks.py", (), ()),
    # the HTML sanitizer and reference checks. Not test_hostile_content.py's in-process build tests (a
    # project copy and a build each): test_guards_sanitize.py calls the same functions, one pandoc parse
    "sanitize": Target("engine/sanitize.py", (), ()),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", metavar="module", help=f"one or more of: {', '.join(TARGETS)}")
    parser.add_argument("--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (to run `mutmut browse` in it)")
    parser.add_argument("--collect", nargs="*", help=argparse.SUPPRESS)  # internal: run inside the work folder
    args = parser.parse_args(argv)
    if args.collect is not None:
        print(json.dumps(collect(args.collect)))
        return 0
    unknown = [m for m in args.modules if m not in TARGETS]
    if unknown:
        parser.error(f"unknown module {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    for name in args.modules or list(TARGETS):
        mutants = run_module(name, TARGETS[name], args.jobs, args.keep)
        print(f"{name}: " + ", ".join(f"{n} {s}" for s, n in count(mutants).items() if n), flush=True)
        write_results({name: mutants})  # module by module: an interrupted run keeps what it measured
    return 0


def run_module(name: str, target: Target, jobs: int, keep: bool) -> list[dict]:
    work = Path(tempfile.mkdtemp(prefix=f"mutation-{name}-"))
    try:
        prepare(work, target)
        module = "underlag." + target.file.removesuffix(".py").replace("/", ".")
        patterns = [f"{module}.x{'' if f.startswith('ǁ') else '_'}{f}__mutmut_*" for f in target.functions]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(jobs), *patterns]
        print(f"{name}: mutmut in {work}", flush=True)
        run = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        # mutmut stops before testing when no selected test calls the module: every mutant has no tests
        untested = "could not find any test case for any mutant" in run.stdout
        if run.returncode != 0 and not untested:
            sys.exit(f"{name}: mutmut failed ({run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}")
        collected = subprocess.run([sys.executable, str(HERE / "run.py"), "--collect", *patterns], cwd=work,
                                   env=env, capture_output=True, text=True, check=True)
        mutants = json.loads(collected.stdout)
        if untested:
            for mutant in mutants:
                mutant["status"] = "no tests"
        return classify(mutants, name)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def prepare(work: Path, target: Target) -> None:
    """The package as src/underlag, the project's sources and tests, and mutmut's configuration."""
    shutil.copytree(PACKAGE, work / "src" / "underlag", ignore=PACKAGE_IGNORED)
    # a regular package: a namespace package (no __init__.py) loses to any installed regular
    # `underlag` (an editable install of another checkout), wherever that lies on sys.path
    (work / "src" / "underlag" / "__init__.py").touch(exist_ok=True)
    shutil.copytree(PROJECT / "tests", work / "tests", ignore=IGNORED)
    for name in PROJECT_FILES:
        source = PROJECT / name
        if source.is_dir():
            shutil.copytree(source, work / name, ignore=IGNORED)
        elif source.is_file():
            shutil.copy2(source, work / name)
    shared = tomllib.loads((PROJECT / "pyproject.toml").read_text("utf-8")).get("tool", {}).get("mutmut", {})
    tests = [t for t in (*target.tests, *UNIT) if (work / t.split("::")[0]).is_file()]
    if not tests:  # an empty selection would mean the whole suite to mutmut; this one calls nothing of ours
        (work / "tests" / "test_mutation_nothing_selected.py").write_text("def test_nothing_selected():\n    pass\n")
        tests = ["tests/test_mutation_nothing_selected.py"]
    config = {
        **shared,
        "source_paths": ["src/underlag"],
        "only_mutate": [f"src/underlag/{target.file}"],
        "also_copy": [name for name in PROJECT_FILES if (work / name).exists()],
        "pytest_add_cli_args_test_selection": tests,
        "pytest_add_cli_args": [arg for test in SUBPROCESS_ONLY for arg in ("--deselect", test)],
    }
    (work / "pyproject.toml").write_text("[tool.mutmut]\n" + "".join(f"{k} = {json.dumps(v)}\n"
                                                                    for k, v in config.items()), "utf-8")


def collect(patterns: list[str]) -> list[dict]:
    """Inside the work folder after `mutmut run`: every mutant's name, status and diff."""
    import fnmatch

    from mutmut.__main__ import SourceFileMutationData, walk_mutatable_files
    from mutmut.mutation.diff_apply import get_diff_for_mutant
    from mutmut.stats import status_by_exit_code

    mutants = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for key, code in sorted(data.exit_code_by_key.items(), key=lambda item: _natural(item[0])):
            if patterns and not any(fnmatch.fnmatch(key, p) for p in patterns):
                continue
            mutants.append({"name": key, "status": status_by_exit_code[code],
                            "diff": get_diff_for_mutant(key, path=path)})
    return mutants


def _natural(name: str) -> tuple:
    stem, _, number = name.rpartition("__mutmut_")
    return stem, int(number) if number.isdigit() else 0


def changed_lines(diff: str) -> str:
    """The removed and added lines of a mutant's diff: what identifies it across runs (numbers shift)."""
    return "\n".join(line.rstrip() for line in diff.splitlines()
                     if line[:1] in "+-" and not line.startswith(("+++", "---")))


def function_of(name: str) -> str:
    """The function a mutant changes: x_read_text__mutmut_3 -> read_text, xǁ_Converterǁvalue__mutmut_1 -> _Converter.value."""
    mangled = re.sub(r"__mutmut_\d+$", "", name.rpartition(".x")[2])
    return mangled[1:] if mangled.startswith("_") else mangled.strip("ǁ").replace("ǁ", ".")


def classify(mutants: list[dict], module: str) -> list[dict]:
    equivalent = tomllib.loads(EQUIVALENT.read_text("utf-8")).get("equivalent", []) if EQUIVALENT.exists() else []
    known = {(e["module"], e["function"], e["change"].strip()): e["reason"] for e in equivalent}
    for mutant in mutants:
        status = mutant["status"]
        mutant["function"] = function_of(mutant["name"])
        mutant["change"] = changed_lines(mutant["diff"])
        reason = known.get((module, mutant["function"], mutant["change"]))
        if status == "survived" and reason:
            status, mutant["reason"] = "equivalent", reason
        mutant["status"] = status if status in STATUSES else "other"
    return mutants


def count(mutants: list[dict]) -> dict[str, int]:
    return {status: sum(m["status"] == status for m in mutants) for status in STATUSES}


TABLE_START, TABLE_END = "<!-- table: written by run.py -->", "<!-- end of table -->"
SURVIVORS_START, SURVIVORS_END = "<!-- survivors: written by run.py -->", "<!-- end of survivors -->"


def write_results(rows: dict[str, list[dict]]) -> None:
    """Update this run's modules in RESULTS.md (table and survivors); keep the other modules' rows."""
    text = RESULTS.read_text("utf-8") if RESULTS.exists() else f"# Mutation testing\n\n{TABLE_START}\n{TABLE_END}\n\n" \
                                                               f"{SURVIVORS_START}\n{SURVIVORS_END}\n"
    table = _section(text, TABLE_START, TABLE_END)
    old_rows = {m.group(1): m.group(0) for m in re.finditer(r"^\| `([\w]+)` \|.*$", table, re.M)}
    for name, mutants in rows.items():
        numbers = count(mutants)
        old_rows[name] = f"| `{name}` | " + " | ".join(str(numbers[s]) for s in STATUSES) + f" | {len(mutants)} |"
    header = "| module | " + " | ".join(STATUSES) + " | total |\n|---|" + "---:|" * (len(STATUSES) + 1)
    ordered = [old_rows[name] for name in TARGETS if name in old_rows]
    text = _replace(text, TABLE_START, TABLE_END, "\n".join([header, *ordered]))

    survivors = _section(text, SURVIVORS_START, SURVIVORS_END)
    blocks = {m.group(1): m.group(0) for m in re.finditer(r"^### `(\w+)`\n.*?(?=^### |\Z)", survivors, re.M | re.S)}
    for name, mutants in rows.items():
        blocks[name] = _survivor_block(name, mutants)
    text = _replace(text, SURVIVORS_START, SURVIVORS_END,
                    "\n".join(blocks[name].rstrip() + "\n" for name in TARGETS if name in blocks))
    RESULTS.write_text(text, "utf-8")


def _survivor_block(name: str, mutants: list[dict]) -> str:
    lines = [f"### `{name}`", ""]
    shown = [m for m in mutants if m["status"] in ("survived", "equivalent", "no tests", "timeout", "other")]
    if not shown:
        return "\n".join(lines + ["Every mutant killed.", ""])
    for m in shown:
        why = f" — {m['reason']}" if m.get("reason") else ""
        lines += [f"- `{m['name']}` ({m['status']}){why}", "", "  ```diff",
                  *[f"  {line}" for line in m["change"].splitlines()], "  ```", ""]
    return "\n".join(lines)


def _section(text: str, start: str, end: str) -> str:
    return text.split(start, 1)[1].split(end, 1)[0]


def _replace(text: str, start: str, end: str, body: str) -> str:
    before, rest = text.split(start, 1)
    return f"{before}{start}\n{body}\n{end}{rest.split(end, 1)[1]}"


if __name__ == "__main__":
    sys.exit(main())
