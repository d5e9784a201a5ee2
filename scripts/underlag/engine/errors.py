"""Problems found in a writer's input, and the one exception that carries them.

Every stage collects problems instead of stopping at the first, then raises
`InputError` with all of them; only the CLI prints them and chooses the exit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int | None
    column: int | None
    message: str
    severity: str = "error"  # or "warning": reported, but the build goes on unless --strict

    def __str__(self) -> str:
        place = self.path
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        from underlag.engine.messages import text

        kind = text("problem.warning") if self.severity == "warning" else ""
        return f"{place}: {kind}{self.message}"


class UnderlagError(Exception):
    """Base of every error the CLI reports without a traceback."""


class InputError(UnderlagError):
    """The project's sources are wrong: the writer can fix them."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems), key=_sort_key)
        super().__init__("\n".join(str(p) for p in self.problems))


class PartialBuildError(InputError):
    """Some formats were built; the others are refused for problems the writer can fix (PDF/UA)."""

    def __init__(self, problems: list[Problem], built: tuple[str, ...], refused: tuple[str, ...]):
        super().__init__(problems)
        self.built, self.refused = built, refused

    @property
    def summary(self) -> str:
        from underlag.engine.messages import text

        names = lambda formats: text("build.partial_and").join(f.upper() for f in formats)  # noqa: E731
        made = text("build.partial_built", formats=names(self.built)) if self.built else ""
        return made + text("build.partial_refused", formats=names(self.refused), n=len(self.problems))


class UsageError(UnderlagError):
    """The command was asked for something it must refuse (exit status 2)."""


class ToolError(UnderlagError):
    """A renderer (pandoc, Typst) failed in a way we could not map to a source line."""


def _sort_key(problem: Problem) -> tuple:
    return (problem.path, problem.line or 0, problem.column or 0, problem.message)


def relative(path: Path, root: Path) -> str:
    """The path as a writer sees it: relative to the project root when inside it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, RuntimeError, OSError):  # outside, or a link loop ("Symlink loop from …")
        return str(path)
