"""A seeded mutation fuzzer over the scenario files in ``scenarios/`` and ``benchmarks/scenarios/``.

``make_case(seed, index)`` returns one mutated scenario file (bytes) and the list of
mutations that made it. Everything is drawn from ``random.Random(f"{seed}:{index}")`` (a
string seed is hashed with SHA-512 by ``random``, never with ``hash()``), so a case is
reproduced from its seed and index alone, in any process and in any order.

Mutations work on two levels:

* **data**: the seed file is parsed, one node of the tree is changed, and the tree is
  written back as YAML -- a value replaced by 0, -1, a huge integer, NaN or infinity, an
  empty string/list/mapping, a value of the wrong type, a quantity without its unit or in
  the wrong unit, a key removed, two values swapped, a scale-up of a count (the "too much
  work" cases), a deeply nested value, an alias to another node or an alias bomb;
* **text**: the written file is truncated, has bytes flipped or invalid UTF-8 inserted,
  or a key line duplicated.

One to three mutations are stacked per case.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
SEED_DIRS = (REPO / "scenarios", REPO / "benchmarks" / "scenarios")

Path_ = tuple[Any, ...]

HUGE_INTS = (2**31 - 1, 2**31, 2**32, 2**63 - 1, 2**63, 2**64, 10**30, 10**400)
UNITS = (
    "B", "KB", "KiB", "MB", "MiB", "GB", "GiB", "TB", "PiB",
    "B/s", "MB/s", "GB/s", "Gbps", "Mbps", "bps",
    "ms", "us", "s", "m", "h", "d", "ns",
    "msg/s", "msgs/s", "%",
)
QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*([A-Za-z/%]+(?: ?/ ?[A-Za-z]+)?)?\s*$")
KEY_LINE = re.compile(rb"^(\s*-?\s*)[A-Za-z_][\w.]*:", re.M)


@dataclass(frozen=True)
class Case:
    """One fuzz input: which seed file, which mutations, and the bytes to feed ``check``."""

    seed: int
    index: int
    base: str
    mutations: tuple[str, ...]
    data: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return f"case-{self.seed}-{self.index}"


@cache
def seed_corpus() -> tuple[tuple[str, Any], ...]:
    """``(file name, parsed data)`` of every seed scenario, in a fixed order."""
    files = sorted(p for d in SEED_DIRS for p in d.glob("*.yaml"))
    return tuple(
        (f"{p.parent.name}/{p.name}", yaml.load(p.read_text(encoding="utf-8"), Loader=_Loader))
        for p in files
    )


# libyaml when present (10x faster); the output is the same YAML either way
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


# ---- the data tree --------------------------------------------------------------------------


def _paths(node: Any, path: Path_ = ()) -> list[Path_]:
    """Every path below the root, parents before children, in document order."""
    out: list[Path_] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*path, key))
            out.extend(_paths(value, (*path, key)))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out.append((*path, i))
            out.extend(_paths(value, (*path, i)))
    return out


def _get(root: Any, path: Path_) -> Any:
    for element in path:
        root = root[element]
    return root


def _set(root: Any, path: Path_, value: Any) -> None:
    _get(root, path[:-1])[path[-1]] = value


def _delete(root: Any, path: Path_) -> None:
    del _get(root, path[:-1])[path[-1]]


def _leaf_paths(root: Any) -> list[Path_]:
    return [p for p in _paths(root) if not isinstance(_get(root, p), (dict, list))]


def _number_paths(root: Any) -> list[Path_]:
    """Leaves that hold a number or a quantity such as ``10Gbps``."""
    out = []
    for p in _leaf_paths(root):
        value = _get(root, p)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append(p)
        elif isinstance(value, str) and QUANTITY.match(value):
            out.append(p)
    return out


# ---- data-level mutations: each returns a description, or None if it did not apply -----------


def _replace_value(rng: random.Random, root: Any) -> str | None:
    paths = _paths(root)
    if not paths:
        return None
    path = rng.choice(paths)
    choices: list[tuple[str, Any]] = [
        ("0", 0),
        ("-1", -1),
        ("huge int", rng.choice(HUGE_INTS)),
        ("-huge int", -rng.choice(HUGE_INTS)),
        ("nan", float("nan")),
        ("inf", float("inf")),
        ("-inf", float("-inf")),
        ("empty string", ""),
        ("empty list", []),
        ("empty mapping", {}),
        ("null", None),
        ("true", True),
        ("text", rng.choice(["abc", "Gbps", "1 2 3", "-", "∞", "0x10", "1_000", "1e999"])),
        ("float", rng.choice([0.5, 1e-300, 1e300, -0.0, 3.7])),
        ("list of value", [_get(root, path)]),
        ("mapping of value", {"value": _get(root, path)}),
    ]
    label, value = rng.choice(choices)
    _set(root, path, value)
    return f"{_fmt(path)} = {label}"


def _quantity(rng: random.Random, root: Any) -> str | None:
    """Change a number or quantity: drop its unit, change the unit, negate, extreme amount."""
    paths = _number_paths(root)
    if not paths:
        return None
    path = rng.choice(paths)
    value = _get(root, path)
    match = QUANTITY.match(value) if isinstance(value, str) else None
    amount, unit = (match.group(1), match.group(2) or "") if match else (str(value), "")
    kind = rng.choice(["unitless", "other unit", "negative", "zero", "extreme", "nan", "tiny"])
    if kind == "unitless":
        try:
            new: Any = float(amount) if "." in amount or "e" in amount.lower() else int(amount)
        except ValueError:  # already mutated into nan, inf, huge
            new = amount
    elif kind == "other unit":
        new = f"{amount}{rng.choice(UNITS)}"
    elif kind == "negative":
        new = f"-{amount}{unit}" if unit else -abs(float(amount))
    elif kind == "zero":
        new = f"0{unit}"
    elif kind == "extreme":
        new = f"{rng.choice(['1e300', '1e30', '99999999999999999999', '2147483648', '1e-300'])}{unit}"
    elif kind == "nan":
        new = f"{rng.choice(['nan', 'inf', '-inf', 'NaN'])}{unit}"
    else:
        new = f"{rng.choice(['0.000001', '1e-9', '0.4'])}{unit}"
    _set(root, path, new)
    return f"{_fmt(path)} = {new!r} ({kind})"


def _scale_count(rng: random.Random, root: Any) -> str | None:
    """Multiply or divide a number (counts, rates, sizes): plausible but too much work."""
    paths = _number_paths(root)
    if not paths:
        return None
    path = rng.choice(paths)
    value = _get(root, path)
    factor = rng.choice([10, 100, 1000, 10**4, 10**6, 0.01, 0.001])
    if isinstance(value, str):
        match = QUANTITY.match(value)
        assert match is not None
        try:
            amount = float(match.group(1)) * factor
        except ValueError:
            return None
        new: Any = f"{amount:g}{match.group(2) or ''}"
    elif isinstance(value, int):
        new = max(0, int(value * factor))
    else:
        new = value * factor
    _set(root, path, new)
    return f"{_fmt(path)} x {factor:g}"


def _wrong_type(rng: random.Random, root: Any) -> str | None:
    """A mapping or list becomes a scalar, or a scalar becomes a collection."""
    paths = _paths(root)
    if not paths:
        return None
    path = rng.choice(paths)
    value = _get(root, path)
    if isinstance(value, dict):
        new: Any = rng.choice([list(value.values()), list(value), "text", 3])
    elif isinstance(value, list):
        new = rng.choice([{"a": value}, value[0] if value else "x", 5, "a, b"])
    else:
        new = rng.choice([[value, value], {str(value): value}, [], {}])
    _set(root, path, new)
    return f"{_fmt(path)} wrong type"


def _remove_key(rng: random.Random, root: Any) -> str | None:
    paths = [p for p in _paths(root) if isinstance(_get(root, p[:-1]), dict) or len(p) > 1]
    if not paths:
        return None
    path = rng.choice(paths)
    _delete(root, path)
    return f"{_fmt(path)} removed"


def _add_key(rng: random.Random, root: Any) -> str | None:
    """An unknown or misspelt key next to real ones."""
    maps = [()] + [p for p in _paths(root) if isinstance(_get(root, p), dict)]
    path = rng.choice(maps)
    target = _get(root, path)
    existing = list(target)
    key = rng.choice(
        [f"{rng.choice(existing)}x" if existing else "x", "linger_ms", "partitions", "name", "", "0", "type"]
    )
    target[key] = rng.choice([1, "1s", [1], {"a": 1}, None])
    return f"{_fmt((*path, key))} added"


def _swap(rng: random.Random, root: Any) -> str | None:
    paths = _leaf_paths(root)
    if len(paths) < 2:
        return None
    a, b = rng.sample(paths, 2)
    va, vb = _get(root, a), _get(root, b)
    _set(root, a, vb)
    _set(root, b, va)
    return f"swap {_fmt(a)} <-> {_fmt(b)}"


def _duplicate_list_item(rng: random.Random, root: Any) -> str | None:
    """A topic, producer or consumer group listed twice (same name)."""
    lists = [p for p in _paths(root) if isinstance(_get(root, p), list) and _get(root, p)]
    if not lists:
        return None
    path = rng.choice(lists)
    items = _get(root, path)
    items.append(copy.deepcopy(rng.choice(items)))
    return f"{_fmt(path)} item duplicated"


def _alias(rng: random.Random, root: Any) -> str | None:
    """Make one node the same object as another: the dumper writes an anchor and an alias."""
    paths = _paths(root)
    if len(paths) < 2:
        return None
    a, b = rng.sample(paths, 2)
    if a[: len(b)] == b or b[: len(a)] == a:
        return None  # an ancestor aliasing its descendant would be a cycle
    _set(root, a, _get(root, b))
    return f"{_fmt(a)} = alias of {_fmt(b)}"


MUTATIONS_DATA: tuple[tuple[Callable[[random.Random, Any], str | None], int], ...] = (
    (_replace_value, 6),
    (_quantity, 6),
    (_scale_count, 4),
    (_wrong_type, 3),
    (_remove_key, 3),
    (_add_key, 1),
    (_swap, 2),
    (_duplicate_list_item, 1),
    (_alias, 1),
)


# ---- text-level mutations -------------------------------------------------------------------


def _truncate(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(data) + 1) if data else 0
    return data[:at], f"truncated at byte {at}"


def _flip_bytes(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    if not data:
        return data, "flip on empty"
    buf = bytearray(data)
    count = rng.choice([1, 1, 2, 5])
    for _ in range(count):
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
    return bytes(buf), f"{count} bit(s) flipped"


def _invalid_utf8(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    junk = rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x00", b"\xfe\xff", b"\xe2\x82"])
    at = rng.randrange(len(data) + 1) if data else 0
    return data[:at] + junk + data[at:], f"{junk!r} inserted at byte {at}"


def _duplicate_key_line(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    lines = data.split(b"\n")
    keyed = [i for i, line in enumerate(lines) if KEY_LINE.match(line) and not line.lstrip().startswith(b"-")]
    if not keyed:
        return data, "no key line"
    i = rng.choice(keyed)
    lines.insert(i + 1, lines[i])
    return b"\n".join(lines), f"line {i + 1} duplicated"


def _deep_nesting(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    depth = rng.choice([50, 500, 5000, 50000])
    nested = rng.choice([b"[" * depth + b"]" * depth, b"{a: " * depth + b"1" + b"}" * depth])
    return data + b"\nnested: " + nested + b"\n", f"value nested {depth} deep"


def _alias_bomb(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    """Billion laughs: ``levels`` levels of ``width`` aliases each."""
    levels, width = rng.choice([(3, 10), (5, 10), (7, 10), (9, 10), (20, 2)])
    lines = [b"bomb0: &b0 [lol, lol]"]
    for level in range(1, levels + 1):
        refs = b", ".join([b"*b%d" % (level - 1)] * width)
        lines.append(b"bomb%d: &b%d [%s]" % (level, level, refs))
    return data + b"\n" + b"\n".join(lines) + b"\n", f"alias bomb {levels} levels x {width}"


def _oversize(rng: random.Random, data: bytes) -> tuple[bytes, str]:
    size = rng.choice([2, 20]) * 1024 * 1024
    return data + b"\n#" + b"x" * size + b"\n", f"{size // (1024 * 1024)} MiB comment appended"


MUTATIONS_TEXT: tuple[tuple[Callable[[random.Random, bytes], tuple[bytes, str]], int], ...] = (
    (_truncate, 3),
    (_flip_bytes, 3),
    (_invalid_utf8, 2),
    (_duplicate_key_line, 2),
    (_deep_nesting, 1),
    (_alias_bomb, 1),
)
RARE_TEXT = ((_oversize, 1),)


def _weighted(rng: random.Random, table: tuple[tuple[Any, int], ...]) -> Any:
    functions, weights = zip(*table, strict=True)
    return rng.choices(functions, weights=weights, k=1)[0]


def _fmt(path: Path_) -> str:
    text = ""
    for element in path:
        text += f"[{element}]" if isinstance(element, int) else ("." if text else "") + str(element)
    return text or "(root)"


def make_case(seed: int, index: int, *, text_share: float = 0.25, rare: bool = False) -> Case:
    """The ``index``-th case of run ``seed``: 1-3 stacked mutations of one seed scenario.

    ``text_share`` of the cases end with a text-level mutation; ``rare`` adds the slow
    ones (multi-MiB files) to the choice.
    """
    rng = random.Random(f"{seed}:{index}")
    base, parsed = rng.choice(seed_corpus())
    root = copy.deepcopy(parsed)
    done: list[str] = []
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        mutation = _weighted(rng, MUTATIONS_DATA)
        description = mutation(rng, root)
        if description is not None:
            done.append(description)
    data = yaml.dump(root, Dumper=_Dumper, sort_keys=False, allow_unicode=True).encode("utf-8")
    if rng.random() < text_share:
        table = MUTATIONS_TEXT + (RARE_TEXT if rare else ())
        data, description = _weighted(rng, table)(rng, data)
        done.append(description)
    return Case(seed, index, base, tuple(done), data)
