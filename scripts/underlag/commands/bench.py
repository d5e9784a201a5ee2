"""Benchmark: `python -m underlag.commands.bench [--runs N] [--json FILE]`.

Times whole `underlag` processes on copies of the project (never the project itself), with
repeated runs and medians, side by side with the floor: the bare tool calls (pandoc to each
format and typst.compile) on the same assembled sources, run the same way (in parallel).
Prints a table and writes a JSON result, with each case's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_FILES = ("_quarto.yml", "_quarto-kortversion.yml", "_variables.yml", "chapters", "data", "templates")
SCALE = 10  # the synthetic report is this many times the real one


def copy_project(source: Path, destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in PROJECT_FILES:
        path = source / name
        if path.is_dir():
            shutil.copytree(path, destination / name, ignore=shutil.ignore_patterns("_generated"))
        elif path.is_file():
            shutil.copy2(path, destination / name)
    return destination


def clean(project: Path, generated: bool = True) -> None:
    """Empty the caches and outputs; `generated=False` keeps figures (the synthetic book's inputs)."""
    names = (".underlag-cache", "report") + (("figures", "chapters/_generated") if generated else ())
    for name in names:
        shutil.rmtree(project / name, ignore_errors=True)


def run(project: Path, *args: str) -> tuple[float, int]:
    """Wall seconds and peak memory (KiB) of one `underlag` process (its pandoc children not included)."""
    return timed([sys.executable, "-m", "underlag", *args], project)


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command[2:])} failed in {cwd}:\n{errors.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss


def measure(runs: int, prepare, command) -> dict:
    times = []
    for _ in range(runs):
        prepare()
        seconds, peak = command()
        times.append(seconds)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "peak_kib": peak}


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    path.write_text(text.replace(old, new, 1) if old in text else text + new, "utf-8")


def synthetic(source: Path, destination: Path) -> Path:
    """A plain Quarto book SCALE times the real report: every chapter, figure and table row
    repeated with its labels renamed, built from the real report's assembled sources."""
    from underlag.engine.assemble import assemble
    from underlag.commands.build import Options, prepare

    real = copy_project(source, destination.parent / "real-for-synthetic")
    book, _ = prepare(real, Options())
    text = assemble(book).text
    shutil.copytree(real / "figures", destination / "figures")
    (destination / "chapters").mkdir(parents=True)
    names = []
    for copy in range(1, SCALE + 1):
        renamed = re.sub(r"(\{#|@|@[FTS])((?:fig|tbl|sec|Fig|Tbl|Sec)-[\w-]*\w)",
                         lambda m: f"{m.group(1)}{m.group(2)}-k{copy}", text)
        name = f"chapters/kopia-{copy:02d}.qmd"
        (destination / name).write_text(re.sub(r"^:{12}.*$", "", renamed, flags=re.MULTILINE), "utf-8")
        names.append(name)
    config = {"book": {"output-file": "beslutsunderlag", "chapters": names}, "title": "Syntetisk rapport",
              "lang": "sv-SE", "organisation": "Testregionen", "version": "1.0.0", "status": "utkast",
              "date": "2025-01-28"}
    import yaml

    (destination / "_quarto.yml").write_text(yaml.safe_dump(config, allow_unicode=True), "utf-8")
    if (source / "templates").is_dir():  # the project's own overrides; the rest is package data
        shutil.copytree(source / "templates", destination / "templates")
    return destination


def floor(project: Path) -> tuple[float, int]:
    """The bare tools on the assembled sources, in parallel like our build: the time we cannot beat."""
    script = f"""
import sys, time, subprocess, typst, pypandoc
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from underlag.engine.assemble import assemble
from underlag.engine.book import read_book
root = Path({str(project)!r})
work = root / "floor"; work.mkdir(exist_ok=True)
source = work / "book.md"; source.write_text(assemble(read_book(root)).text, "utf-8")
pandoc = pypandoc.get_pandoc_path()
def call(*args): subprocess.run([pandoc, str(source), "-f", "markdown-citations", *args], cwd=root / "chapters",
                                check=True)
def pdf():
    call("-t", "typst", "-s", "--default-image-extension=svg", "-o", str(work / "b.typ"))
    typst.compile(str(work / "b.typ"), output=str(work / "b.pdf"), root=str(root))
started = time.perf_counter()
with ThreadPoolExecutor(3) as pool:
    jobs = [pool.submit(call, "-t", "html5", "-s", "--embed-resources", "--default-image-extension=svg",
                        "-o", str(work / "b.html")),
            pool.submit(call, "-t", "docx", "--default-image-extension=png", "-o", str(work / "b.docx")),
            pool.submit(pdf)]
    [job.result() for job in jobs]
print(time.perf_counter() - started)
"""
    return timed([sys.executable, "-c", script], project)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m underlag.commands.bench")
    parser.add_argument("--project", type=Path, default=Path("."))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("report/bench.json"))
    args = parser.parse_args(argv)
    source = args.project.resolve()
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="underlag-bench-") as folder:
        work = Path(folder)
        project = copy_project(source, work / "report-copy")
        chapter = project / "chapters/10-fortsatt-arbete.qmd"
        scores = project / "data/bedomningar.csv"
        counter = iter(range(10_000))
        say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731

        say("cold full build")
        results["cold, all formats"] = measure(args.runs, lambda: clean(project), lambda: run(project, "build"))
        say("no-change rebuild")
        results["no change"] = measure(args.runs, lambda: None, lambda: run(project, "build"))
        say("one chapter edited")
        results["chapter edited, HTML"] = measure(
            args.runs, lambda: edit(chapter, "\n\n", f"\n\nMening {next(counter)}.\n\n"),
            lambda: run(project, "build", "--format", "html"))
        results["chapter edited, all formats"] = measure(
            args.runs, lambda: edit(chapter, "\n\n", f"\n\nMening {next(counter)}.\n\n"), lambda: run(project, "build"))
        say("one score edited")
        values = iter(["4", "3", "4", "3", "4", "3"] * args.runs)
        results["one score edited, all formats"] = measure(
            args.runs, lambda: scores.write_text(re.sub(r"(?m)^alt1;kvalitet;\d", f"alt1;kvalitet;{next(values)}",
                                                        scores.read_text("utf-8")), "utf-8"),
            lambda: run(project, "build"))
        say("floor: bare pandoc and typst")
        results["floor (bare tools)"] = measure(args.runs, lambda: None, lambda: floor(project))
        say(f"synthetic report, {SCALE}×")
        big = synthetic(source, work / "synthetic")
        results[f"{SCALE}× report, cold"] = measure(args.runs, lambda: clean(big, generated=False),
                                                    lambda: run(big, "build"))
        results[f"{SCALE}× report, no change"] = measure(args.runs, lambda: None, lambda: run(big, "build"))
        results[f"{SCALE}× floor"] = measure(args.runs, lambda: None, lambda: floor(big))

    cold, floor_time = results["cold, all formats"]["median"], results["floor (bare tools)"]["median"]
    ratios = {
        "cold / floor": cold / floor_time,
        "no change / cold": results["no change"]["median"] / cold,
        f"{SCALE}× cold / cold": results[f"{SCALE}× report, cold"]["median"] / cold,
        f"{SCALE}× cold / {SCALE}× floor": results[f"{SCALE}× report, cold"]["median"] / results[f"{SCALE}× floor"]["median"],
    }
    print(f"{'case':34} {'median s':>9} {'min':>7} {'max':>7} {'peak MiB':>9}")
    for name, row in results.items():
        print(f"{name:34} {row['median']:9.2f} {row['min']:7.2f} {row['max']:7.2f} {row['peak_kib'] / 1024:9.0f}")
    for name, value in ratios.items():
        print(f"{name:34} {value:9.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"runs": args.runs, "results": results, "ratios": ratios}, indent=2), "utf-8")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
