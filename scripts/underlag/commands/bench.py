"""Benchmark: `python -m underlag.commands.bench [--runs N] [--json FILE]`.

Times whole `underlag` processes on copies of the project (never the project itself), with
repeated runs and medians, side by side with the floor: the bare tool calls (pandoc to each
format and typst.compile) on the same assembled sources, run the same way (in parallel).
Prints a table, each case's stages (the build writes them to $UNDERLAG_TIMINGS) and the peak
memory of its whole process tree, and writes the same as JSON.
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
from dataclasses import dataclass, field
from pathlib import Path

from underlag.commands.build import TIMINGS_VARIABLE

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


STAGES = ("import", "load", "privacy", "analysis", "figures", "fragments", "assemble", "html", "docx", "pdf",
          "formats")
SAMPLE_SECONDS = 0.02  # how often the process tree's memory is read


@dataclass
class Timing:
    seconds: float
    peak_kib: int  # the whole process tree at its fullest: the sum of every process's PSS at one moment
    largest_process_kib: int  # the largest single process (what wait4/RUSAGE_CHILDREN's maxrss reports)
    cpu_seconds: float  # user + system of the whole tree: steadier than wall time on a shared machine
    stages: dict[str, float] = field(default_factory=dict)


def run(project: Path, *args: str) -> Timing:
    """One `underlag` process: wall time, memory, and the stages its build reports."""
    with tempfile.TemporaryDirectory(prefix="underlag-timings-") as folder:
        report = Path(folder) / "timings.json"
        launched = time.time()
        timing = timed([sys.executable, "-m", "underlag", *args], project, {TIMINGS_VARIABLE: str(report)})
        if report.is_file():
            written = json.loads(report.read_text("utf-8"))
            # before the build starts: the interpreter, our imports and the command line
            timing.stages = {"import": written["entered"] - launched, **written["stages"]}
    return timing


def timed(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Timing:
    """Runs the command, reading its process tree's memory every SAMPLE_SECONDS.

    The tree's peak is the sum over the processes alive at one moment (the build, its pandoc and
    figure workers; Typst runs inside the build). Neither `resource.getrusage(RUSAGE_CHILDREN)` nor
    wait4's `ru_maxrss` can tell it: both give the largest *single* process's peak. PSS (not RSS)
    is summed, so pages that forked workers share with the build are counted once."""
    import psutil

    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors,
                                   env={**os.environ, **(env or {})})
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _tree_kib(psutil, process.pid))
            time.sleep(SAMPLE_SECONDS)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"{' '.join(command[2:])} failed in {cwd}:\n{errors.read().decode()[-2000:]}")
    return Timing(elapsed, max(peak, usage.ru_maxrss), usage.ru_maxrss, usage.ru_utime + usage.ru_stime)


def _tree_kib(psutil, pid: int) -> int:
    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:  # it has just ended
        return 0
    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:  # ended between the listing and the reading
            pass
    return total // 1024


def measure(runs: int, prepare, command) -> dict:
    timings = []
    for _ in range(runs):
        prepare()
        timings.append(command())
    times = [t.seconds for t in timings]
    names = [name for name in STAGES if any(name in t.stages for t in timings)]
    names += [name for t in timings for name in t.stages if name not in names]
    return {"median": statistics.median(times), "min": min(times), "max": max(times),
            "peak_kib": max(t.peak_kib for t in timings),
            "largest_process_kib": max(t.largest_process_kib for t in timings),
            "cpu_seconds": statistics.median(t.cpu_seconds for t in timings),
            "stages": {name: statistics.median(t.stages.get(name, 0.0) for t in timings) for name in names}}


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


def floor(project: Path) -> Timing:
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
        "one score edited / floor": results["one score edited, all formats"]["median"] / floor_time,
        # CPU seconds are steadier on a shared machine than wall seconds
        "cold / floor, cpu": results["cold, all formats"]["cpu_seconds"] / results["floor (bare tools)"]["cpu_seconds"],
        "no change / cold": results["no change"]["median"] / cold,
        f"{SCALE}× cold / cold": results[f"{SCALE}× report, cold"]["median"] / cold,
        f"{SCALE}× cold / {SCALE}× floor": results[f"{SCALE}× report, cold"]["median"] / results[f"{SCALE}× floor"]["median"],
    }
    print(f"{'case':34} {'median s':>9} {'min':>7} {'max':>7} {'cpu s':>7} {'peak MiB':>9} {'largest':>8}")
    for name, row in results.items():
        print(f"{name:34} {row['median']:9.2f} {row['min']:7.2f} {row['max']:7.2f} {row['cpu_seconds']:7.2f}"
              f" {row['peak_kib'] / 1024:9.0f} {row['largest_process_kib'] / 1024:8.0f}")
    for name, value in ratios.items():
        print(f"{name:34} {value:9.2f}")
    print("\nstages (median s; the formats run side by side, so they overlap):")
    for name, row in results.items():
        if row["stages"]:
            print(f"{name:34} " + " · ".join(f"{stage} {value:.2f}" for stage, value in row["stages"].items()))
    print("peak MiB: the process tree (build, pandoc, figure workers; Typst runs inside the build) at its "
          "fullest, summed PSS; largest: the largest single process; cpu s: user + system of the tree")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"runs": args.runs, "results": results, "ratios": ratios}, indent=2), "utf-8")
    print(f"written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
