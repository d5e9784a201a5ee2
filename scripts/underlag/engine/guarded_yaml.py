"""The one YAML loader: every YAML file the tool reads (data, `_quarto*.yml`, `_variables.yml`,
chapter front matter, the allow-list, metadata files, bibliographies, style definitions).

Why PyYAML with our own resolvers rather than ruamel.yaml: the loader composes nodes first so
that every value keeps its line and column (the messages need them), which PyYAML's composer
gives directly and cheaply (with libyaml); only its YAML 1.1 resolvers were wrong for writers.
Here they follow YAML 1.2's core schema: `012` is twelve (no octal), `no`, `yes`, `on`, `off`
stay text, `1:20` is text; only `true`/`false` are booleans. Dates (`2025-03-31`) stay dates.

The guard: a size limit, a limit on nesting depth (checked while composing, so no
RecursionError), a limit on the number of values after alias expansion (a "billion laughs"
file fails fast), refusal of control and bidi override characters, and helpers that turn a
list-where-a-mapping-belongs into a located message instead of an AttributeError.
"""

from __future__ import annotations

import copy
import functools
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from underlag.engine.confine import check_read
from underlag.engine.errors import InputError, Problem, relative
from underlag.engine.messages import text as _

Position = tuple[int, int]  # 1-based line and column
Loc = tuple[str | int, ...]
MAX_FILE_BYTES = 1_000_000  # hand-written files: anything bigger is the wrong file
MAX_YAML_NODES = 100_000  # values after alias expansion: guards against alias bombs
MAX_DEPTH = 60  # nesting levels: data files need a handful
# Characters that never belong in a writer's text: C0 controls (tab, line feed and carriage return
# excepted), DEL, C1 controls, and the bidi embeddings, overrides and isolates that can make a
# number display in another order than it is stored ("Kostnad 10 000 kr").
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
BOM = "\ufeff"  # Excel's "CSV UTF-8" and some editors start files with it


def forbidden_characters(text: str, shown: str, first_line: int = 1) -> list[Problem]:
    """A located problem for each line holding a control or bidi override character."""
    problems = []
    for offset, line in enumerate(text.split("\n")):
        match = FORBIDDEN.search(line)
        if match:
            char = match.group(0)
            name = unicodedata.name(char, "") or _("yaml.control_character_name")
            problems.append(Problem(shown, first_line + offset, match.start() + 1,
                                    _("yaml.forbidden_character", code=f"{ord(char):04X}", name=name)))
    return problems


def read_text(path: Path, root: Path, allow_empty: bool = False) -> str:
    """A source file's text: inside the project, present, small, UTF-8 (a BOM is dropped), with no
    control or bidi override characters; InputError otherwise."""
    shown = relative(path, root)
    check_read(root, path)
    if not path.is_file():
        raise InputError([Problem(shown, None, None, _("yaml.missing"))])
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise InputError([Problem(shown, 1, None, _("yaml.too_big", size=f"{size / 1e6:.1f}",
                                                    limit=MAX_FILE_BYTES // 1_000_000))])
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8").removeprefix(BOM)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError([Problem(shown, line, None, _("yaml.not_utf8"))]) from None
    if problems := forbidden_characters(text, shown):
        raise InputError(problems)
    if not allow_empty and (not text.strip() or all(not l.strip() or l.lstrip().startswith("#")
                                                    for l in text.splitlines())):
        raise InputError([Problem(shown, 1, 1, _("yaml.empty"))])
    return text


# --- YAML 1.2 core schema ---------------------------------------------------------------------


class _TooDeep(Exception):
    def __init__(self, mark: yaml.Mark):
        self.mark = mark


class Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema scalars and a nesting limit while composing.

    The pure-Python reader, scanner and parser: `FastLoader` is what runs; this one re-reads a
    text libyaml refused, so the message and position are PyYAML's own."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    depth = 0

    def compose_node(self, parent, index):
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _TooDeep(self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_yaml_int(self, node):
        value = self.construct_scalar(node)
        if value.lstrip("+-").startswith("0o"):
            return int(value.replace("0o", "", 1), 8)
        if value.lstrip("+-").startswith("0x"):
            return int(value.replace("0x", "", 1), 16)
        return int(value, 10)  # 012 is twelve, as written: YAML 1.2 has no leading-zero octal


Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                             list("tTfF"))
Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
                             list("-+0123456789"))
Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)


try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: the pure parser only
    CParser = None


class FastLoader(CParser or object, Loader):
    """libyaml's reader, scanner and parser (most of a parse's time, ten times faster in C) under
    our Python composer, so the nesting limit, the node positions and every resolver stay the
    same; only a YAML error is left to `Loader` (libyaml words its errors differently)."""

    # CParser composes in C, past our nesting limit: the Python composer reads its events instead
    get_single_node = yaml.composer.Composer.get_single_node
    get_node = yaml.composer.Composer.get_node
    check_node = yaml.composer.Composer.check_node

    def __init__(self, stream):
        CParser.__init__(self, stream)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)


_LOADER = FastLoader if CParser else Loader


def read_yaml(path: Path, root: Path, allow_empty: bool = False) -> tuple[Any, dict[Loc, Position]]:
    """Parse a YAML file into plain values plus the position of every value and key."""
    return parse_yaml(read_text(path, root, allow_empty), relative(path, root))


def parse_yaml(text: str, shown: str, first_line: int = 1,
               syntax: str = "yaml.syntax") -> tuple[Any, dict[Loc, Position]]:
    """Parse YAML text (a file, or a chapter's front matter starting at `first_line`).

    A build reads each data file twice (the loader, then the privacy scan), and the parse with
    positions is the slow part: the same text is parsed once per process, and every caller gets
    its own copy."""
    return copy.deepcopy(_parse_once(text, shown, first_line, syntax))


@functools.lru_cache(maxsize=256)
def _parse_once(text: str, shown: str, first_line: int, syntax: str) -> tuple[Any, dict[Loc, Position]]:
    if problems := forbidden_characters(text, shown, first_line):
        raise InputError(problems)
    try:
        return _compose_and_convert(_LOADER, text, shown, first_line, syntax)
    except yaml.YAMLError:
        if _LOADER is Loader:
            raise
    # libyaml refused the text: the pure parser finds the same fault and words it as PyYAML does
    return _compose_and_convert(Loader, text, shown, first_line, syntax)


def _compose_and_convert(loader_class: type, text: str, shown: str, first_line: int,
                         syntax: str) -> tuple[Any, dict[Loc, Position]]:
    """The value and positions, or InputError; a YAML error from the fast loader is raised as it is
    (the caller asks the pure loader instead)."""
    shift = first_line - 1
    fast = loader_class is not Loader
    try:
        loader = loader_class(text)
    except yaml.reader.ReaderError as exc:
        if fast:
            raise
        return _reader_error(shown, text, exc, shift)
    try:
        node = loader.get_single_node()
        positions: dict[Loc, Position] = {}
        value = _Converter(loader, shown, positions, shift).value(node, ()) if node is not None else None
        return value, positions
    except _TooDeep as exc:
        raise InputError([Problem(shown, exc.mark.line + 1 + shift, exc.mark.column + 1,
                                  _("yaml.too_deep", limit=MAX_DEPTH))]) from None
    except RecursionError:
        raise InputError([Problem(shown, first_line, None, _("yaml.too_deep", limit=MAX_DEPTH))]) from None
    except yaml.YAMLError as exc:
        if fast:
            raise
        _yaml_problem(exc, shown, text, shift, first_line, syntax)
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.YAMLError, shown: str, text: str, shift: int, first_line: int, syntax: str):
    if isinstance(exc, yaml.reader.ReaderError):
        _reader_error(shown, text, exc, shift)
    if isinstance(exc, yaml.MarkedYAMLError):
        mark, what = _explain_yaml_error(exc)
        raise InputError([Problem(shown, mark.line + 1 + shift, mark.column + 1, _(syntax, what=what))]) from None
    raise InputError([Problem(shown, first_line, None, _("yaml.error", what=exc))]) from None


def _reader_error(shown: str, text: str, exc: yaml.reader.ReaderError, shift: int = 0):
    line = text[: exc.position].count("\n") + 1 + shift
    raise InputError([Problem(shown, line, None, _("yaml.control_character", code=f"{exc.character:#x}"))]) from None


def _explain_yaml_error(exc: yaml.MarkedYAMLError) -> tuple[yaml.Mark, str]:
    """Where the writer should look, and what to do, for the YAML errors writers make."""
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "invalid YAML"
    if "'\\t'" in what:
        return mark, _("yaml.tab")
    if "quoted scalar" in (exc.context or "") and exc.context_mark:
        return exc.context_mark, _("yaml.unclosed_quote")
    if "mapping values are not allowed" in what:
        return mark, _("yaml.indentation", what=_("yaml.mapping_values", what=what))
    if "expected <block end>" in what:
        return mark, _("yaml.indentation", what=_("yaml.block_end", what=what))
    return mark, what


class _Converter:
    """Turns composed YAML nodes into Python values, recording where each one stood."""

    def __init__(self, loader: Loader, shown: str, positions: dict[Loc, Position], shift: int = 0):
        self.loader, self.shown, self.positions, self.shift = loader, shown, positions, shift
        self.visited = 0
        self.open: set[int] = set()

    def where(self, node: yaml.Node) -> Position:
        return node.start_mark.line + 1 + self.shift, node.start_mark.column + 1

    def fail(self, node: yaml.Node, problem: str):
        raise InputError([Problem(self.shown, *self.where(node), problem)])

    def value(self, node: yaml.Node, loc: Loc) -> Any:
        self.visited += 1
        if self.visited > MAX_YAML_NODES:
            self.fail(node, _("yaml.too_many_values"))
        if id(node) in self.open:
            self.fail(node, _("yaml.recursive_alias"))
        self.positions[loc] = self.where(node)
        if isinstance(node, yaml.ScalarNode):
            try:
                return self.loader.construct_object(node)
            except ValueError as exc:  # e.g. a date such as 2025-02-30
                self.fail(node, _("yaml.invalid_value", value=node.value, reason=exc))
        self.open.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.value(item, loc + (i,)) for i, item in enumerate(node.value)]
            return self.mapping(node, loc)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: yaml.MappingNode, loc: Loc) -> dict:
        result = {}
        self.loader.flatten_mapping(node)  # `<<: *defaults` merge keys
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, _("yaml.key_not_plain"))
            key = self.value(key_node, loc + ("<key>",))
            if key in result:
                self.fail(key_node, _("yaml.key_twice", key=key))
            result[key] = self.value(value_node, loc + (key,))
            # a field's errors point at its key, where the writer looks for it
            self.positions[loc + (key,)] = self.where(key_node)
        return result


# --- structure ---------------------------------------------------------------------------------

KINDS = {dict: "yaml.kind.mapping", list: "yaml.kind.list", str: "yaml.kind.text"}  # message keys


def expect(value: Any, kind: type, shown: str, positions: dict[Loc, Position], loc: Loc = (),
           what: str = "") -> list[Problem]:
    """A located problem when `value` (at `loc`) is not of `kind`; None counts as empty and is fine."""
    if value is None or isinstance(value, kind):
        return []
    line, column = positions.get(loc, (1, 1))
    label = what or (".".join(str(part) for part in loc) if loc else _("yaml.the_file"))
    found = _(KINDS[type(value)]) if type(value) in KINDS else _("yaml.kind.value", value=repr(value))
    return [Problem(shown, line, column, _("yaml.wrong_kind", label=label, kind=_(KINDS[kind]), found=found))]
