"""Reading a scenario file safely: bounded in size, aliases and nesting, every value with its line.

A scenario is a small hand-written file, so anything far larger than one is refused
before it costs time or memory: the file size is checked (``stat``) before a byte is
read, a YAML alias can only expand to a bounded number of values ("billion laughs"),
and nesting is bounded (the composer recurses). Every refusal is one :class:`Problem`
naming the line to look at. YAML goes through PyYAML's safe loader only.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml

from simkafka.scenario.errors import PathElement, Problem, ScenarioError

#: Largest scenario file read (1 MiB). The shipped scenarios are 2-4 KiB; even an explicit
#: replica assignment of 10,000 partitions fits in a tenth of this.
MAX_SCENARIO_BYTES = 1024 * 1024

#: Most values (YAML nodes) a document may build, counting each alias as the values it
#: copies. Bounds what a "billion laughs" alias bomb can cost, while leaving room for a
#: replica assignment of 20,000 partitions written as nested lists.
MAX_YAML_VALUES = 100_000

#: Deepest nesting of lists and mappings, aliases expanded. A scenario needs 5 levels
#: (topics[0].replica.assignment[0][0]); PyYAML's composer recurses once per level.
MAX_NESTING_DEPTH = 32

Positions = dict[tuple[PathElement, ...], tuple[int, int]]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


def _problem_at(source: str, mark: yaml.Mark | None, message: str, hint: str | None = None,
                path: tuple[PathElement, ...] = ()) -> ScenarioError:
    line, col = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return ScenarioError([Problem(source, line, col, path, message, hint)])


# ---- the file ---------------------------------------------------------------------------


def read_scenario_text(path: str | Path, what: str = "file") -> str:
    """The text of a scenario file, or a :class:`ScenarioError` saying why it is not one.

    Only regular files up to :data:`MAX_SCENARIO_BYTES` are read; a device such as
    ``/dev/zero``, a FIFO or a directory is refused from its ``stat`` before reading.
    ``what`` names the file in messages (``no such workload file``).
    """
    source = str(path)

    def refuse(message: str, hint: str | None = None, line: int | None = None, col: int | None = None):
        return ScenarioError([Problem(source, line, col, (), message, hint)])

    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise refuse(f"no such {what}") from None
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    _check_file_kind(info, refuse)
    try:
        # O_NONBLOCK: should the path have become a FIFO since the stat, opening it must
        # not wait for a writer; fstat below sees what was really opened
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise refuse(f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        _check_file_kind(os.fstat(handle.fileno()), refuse)
        raw = handle.read(MAX_SCENARIO_BYTES + 1)
    if len(raw) > MAX_SCENARIO_BYTES:
        raise _too_large(refuse, len(raw))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise refuse(f"not UTF-8 text: {exc.reason} (byte 0x{raw[exc.start]:02x}, column counted in bytes)",
                     "save the file as UTF-8", line, col) from None


def _check_file_kind(info: os.stat_result, refuse) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise refuse("is a directory, not a scenario file")
    if not stat.S_ISREG(info.st_mode):
        raise refuse("not a regular file (a device, pipe or socket); simkafka reads scenario files only",
                     "save the scenario to a file and pass its path")
    if info.st_size > MAX_SCENARIO_BYTES:
        raise _too_large(refuse, info.st_size)


def _too_large(refuse, size: int) -> ScenarioError:
    return refuse(f"the file is larger than the {MAX_SCENARIO_BYTES // 1024} KiB limit for scenario files "
                  f"({'more than ' if size > MAX_SCENARIO_BYTES + 1 else ''}{size:,} bytes)",
                  "a scenario describes a cluster in a few KiB: give partition counts rather than long lists")


# ---- YAML with positions, bounded --------------------------------------------------------


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, composing with a budget of values and of nesting depth.

    Composition builds each node once (an alias refers to the node already built), so it
    is cheap whatever the aliases; here each node's *expanded* size and depth are worked
    out as it is composed, and the document is refused at the alias that would make
    construction exceed :data:`MAX_YAML_VALUES` or :data:`MAX_NESTING_DEPTH`.
    """

    def __init__(self, text: str, source: str):
        super().__init__(text)
        self.source = source
        self.expanded: dict[int, tuple[int, int]] = {}  # id(node) -> (values, depth) once composed
        self.open_nodes: list[list[int]] = []  # per node being composed: [values inside, depth inside]
        self.total_values = 0
        self.path: list[PathElement] = []  # of the node being composed, for messages

    def refuse(self, mark: yaml.Mark, message: str, hint: str) -> ScenarioError:
        return _problem_at(self.source, mark, message, hint, tuple(self.path))

    def compose_node(self, parent, index):
        # PyYAML passes the key node (mapping values), the position (list items) or None
        # (mapping keys, the root); keys are named by the mapping holding them
        element = index.value if isinstance(index, yaml.ScalarNode) else index
        if element is not None:
            self.path.append(element)
        try:
            return self._compose_counted(parent, index)
        finally:
            if element is not None:
                self.path.pop()

    def _compose_counted(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            size_depth = self.expanded.get(id(node))
            if size_depth is None:  # the anchor is still open: `&a [*a]`
                raise self.refuse(mark, "this alias refers to a list or mapping that contains it",
                                  "a scenario cannot be recursive; copy the values instead")
            self._count(*size_depth, mark, through_alias=True)
            return node
        mark = self.peek_event().start_mark
        if len(self.open_nodes) >= MAX_NESTING_DEPTH:
            raise self.refuse(mark, f"nested more than {MAX_NESTING_DEPTH} levels deep",
                              "a scenario needs about 5 levels; check the brackets and indentation")
        self.open_nodes.append([0, 0])
        node = super().compose_node(parent, index)
        inside, depth_inside = self.open_nodes.pop()
        self.expanded[id(node)] = (inside + 1, depth_inside + 1)
        self._count(inside + 1, depth_inside + 1, mark, through_alias=False)
        return node

    def _count(self, values: int, depth: int, mark: yaml.Mark, *, through_alias: bool) -> None:
        if through_alias:
            self.total_values += values
            if len(self.open_nodes) + depth > MAX_NESTING_DEPTH:
                raise self.refuse(mark, f"this alias nests the document more than "
                                  f"{MAX_NESTING_DEPTH} levels deep", "copy the values instead of nesting aliases")
        else:
            self.total_values += 1  # the node itself; its children were counted as they closed
        if self.total_values > MAX_YAML_VALUES:
            what = "this alias expands the document" if through_alias else "the document grows"
            raise self.refuse(mark, f"{what} to more than {MAX_YAML_VALUES:,} values",
                              "aliases that copy aliases grow exponentially ('billion laughs'); "
                              "copy the values instead" if through_alias else
                              "a scenario describes a cluster in a few hundred values")
        if self.open_nodes:
            parent = self.open_nodes[-1]
            parent[0] += values
            parent[1] = max(parent[1], depth)


class _DuplicateKey(Exception):
    def __init__(self, path: tuple[PathElement, ...], mark: yaml.Mark):
        self.path, self.mark = path, mark


def _mapping_pairs(
    loader: _BoundedLoader, node: yaml.MappingNode, path: tuple[PathElement, ...]
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """The key/value nodes of a mapping with YAML merge keys (``<<: *defaults``) resolved.

    Keys written in the mapping win over merged ones, and earlier merged mappings over
    later ones (YAML 1.1 merge); a key written twice in the mapping itself is an error.
    The node is not modified, as it may be shared through an alias.
    """
    own: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    merged: list[dict[str, tuple[yaml.Node, yaml.Node]]] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE_TAG:
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise yaml.constructor.ConstructorError(
                        "while merging into a mapping", node.start_mark,
                        f"expected a mapping (or a list of them) after <<, found {source.id}", source.start_mark)
                merged.append(_mapping_pairs(loader, source, path))
            continue
        key = _key_text(loader, key_node, path)
        if key in own:
            raise _DuplicateKey((*path, key), key_node.start_mark)
        own[key] = (key_node, value_node)
    for pairs in merged:
        for key, pair in pairs.items():
            own.setdefault(key, pair)
    return own


def _key_text(loader: _BoundedLoader, key_node: yaml.Node, path: tuple[PathElement, ...]) -> str:
    """A mapping key as written: scenario keys are names, so ``1:`` or ``on:`` is the text."""
    if not isinstance(key_node, yaml.ScalarNode):
        kind = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
        raise _problem_at(loader.source, key_node.start_mark, f"a key must be a name, not a {kind}",
                          "write `key: value`; a `? ` line or a [..] / {..} before a colon makes a complex key",
                          path)
    _construct_scalar(loader, key_node, path)  # refuses tags the safe loader refuses
    return key_node.value


def _construct_scalar(loader: _BoundedLoader, node: yaml.Node, path: tuple[PathElement, ...]) -> Any:
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        # a date that does not exist (2024-02-30), an integer of thousands of digits
        if node.tag == "tag:yaml.org,2002:int":
            raise _problem_at(loader.source, node.start_mark,
                              f"an integer of {len(node.value):,} characters is beyond any setting's range",
                              None, path) from None
        text = node.value if len(node.value) <= 40 else node.value[:40] + "..."
        reason = str(exc).split(":")[0].split(";")[0]
        raise _problem_at(loader.source, node.start_mark, f"cannot read {text!r}: {reason}",
                          "quote it if it is meant as text", path) from None


def _construct(loader: _BoundedLoader, node: yaml.Node, path: tuple, positions: Positions) -> Any:
    positions.setdefault(path, (node.start_mark.line + 1, node.start_mark.column + 1))
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in (_MAP_TAG, _SEQ_TAG):
        # we build collections ourselves, so refuse any tag the safe loader would refuse
        raise yaml.constructor.ConstructorError(
            None, None, f"tag {node.tag!r} is not allowed in a scenario", node.start_mark
        )
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key, (key_node, value_node) in _mapping_pairs(loader, node, path).items():
            # point at the key, where a person looks for a misspelt or misplaced setting
            positions[(*path, key)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _construct(loader, value_node, (*path, key), positions)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, (*path, i), positions) for i, item in enumerate(node.value)]
    return _construct_scalar(loader, node, path)


def read_yaml_with_positions(text: str, source: str) -> tuple[Any, Positions]:
    """Parse YAML safely, returning the data and the (line, column) of every path in it."""
    if len(text) > MAX_SCENARIO_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_SCENARIO_BYTES:
        raise ScenarioError([Problem(source, None, None, (), f"the text is larger than the "
                                     f"{MAX_SCENARIO_BYTES // 1024} KiB limit for scenario files")])
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, source)  # the reader refuses control characters here
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError([Problem(source, 1, 1, (), "the file is empty", "start from scenarios/quickstart.yaml")])
        positions: Positions = {}
        data = _construct(loader, node, (), positions)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise ScenarioError([Problem(source, line, col, (), f"character U+{ord(character):04X} is not allowed in YAML",
                                     "YAML text holds printable characters, tabs and newlines only")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise ScenarioError([Problem(source, line, col, (), f"not valid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(source, None, None, (), f"not valid YAML: {exc}")]) from None
    except _DuplicateKey as dup:
        raise ScenarioError(
            [Problem(source, dup.mark.line + 1, dup.mark.column + 1, dup.path,
                     f"key {dup.path[-1]!r} appears twice in the same mapping", "keep one of them")]
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, positions
