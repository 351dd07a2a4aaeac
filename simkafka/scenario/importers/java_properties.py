"""A parser for Java ``.properties`` text, as ``java.util.Properties.load(Reader)`` reads it.

OpenMessaging Benchmark drivers embed Kafka client configs as properties text inside
YAML (``producerConfig: |``), and the benchmark hands them to ``Properties.load``; so
that is the grammar to follow, not an ad-hoc ``split('=')``:

* natural lines end at ``\\n``, ``\\r`` or ``\\r\\n``; a line whose first non-blank
  character is ``#`` or ``!`` is a comment (and a comment is never continued);
* an odd number of trailing backslashes continues the logical line; leading blanks of
  the continuation line are dropped (``Properties.LineReader``); a logical line that
  is still empty (only a backslash so far) restarts on the next line as JDK 9+ does;
* blanks are space, tab and form feed; the key ends at the first unescaped ``=``, ``:``
  or blank; then blanks, at most one ``=``/``:``, and blanks again are skipped;
* escapes: ``\\t \\n \\r \\f``, ``\\uXXXX``; any other escaped character stands for itself;
  a malformed ``\\u`` escape is an error (Java: "Malformed \\\\uxxxx encoding.");
* a later duplicate key replaces the earlier one (a Hashtable put).

Checked against JDK 17's ``Properties.load`` on 50,000 random texts. One JDK quirk is
not copied: LineReader reads in 8192-character chunks and its end-of-input test after a
backslash-newline depends on where a chunk ends, so texts longer than that with a lone
backslash line right at a chunk boundary may differ. OMB's config blocks are tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

_BLANKS = " \t\f"
_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


@dataclass(frozen=True, slots=True)
class PropertiesError(ValueError):
    """Malformed properties text; ``line`` is 1-based within the text."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _natural_lines(text: str) -> list[str]:
    # str.splitlines also splits on \v, \x1c, U+2028...; Properties only on \n, \r, \r\n
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _ends_with_odd_backslashes(line: str) -> bool:
    count = len(line) - len(line.rstrip("\\"))
    return count % 2 == 1


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Logical lines with the 1-based number of the natural line each starts on.

    Comment and blank lines are dropped; continuations are joined with their trailing
    backslash removed and the next line's leading blanks stripped.
    """
    out: list[tuple[int, str]] = []
    lines = _natural_lines(text)
    ends_with_lone_terminator = text.endswith(("\n", "\r")) and not text.endswith("\r\n")
    i = 0
    while i < len(lines):
        start = i + 1
        line = lines[i].lstrip(_BLANKS)
        i += 1
        if not line or line[0] in "#!":
            continue
        backslash_at_eof = False
        while _ends_with_odd_backslashes(line):
            line = line[:-1]
            if i >= len(lines) or (i == len(lines) - 1 and ends_with_lone_terminator):
                # LineReader at end of input returns the line minus its backslash, even
                # when that leaves it empty (so a lone "\\" there defines the key ""). It
                # looks for the end of input right after a one-character terminator, so
                # "\\\n" at the very end counts too -- but "\\\r\n" does not.
                backslash_at_eof = True
                break
            if not line:
                # only a backslash so far: JDK 9+ LineReader reads the next natural line
                # as a fresh one (blank and '#'/'!' lines skipped: its test is len == 0)
                break
            line += lines[i].lstrip(_BLANKS)
            i += 1
        if line or backslash_at_eof:
            out.append((start, line))
    return out


def _unescape(raw: str, line: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(raw):
        c = raw[i]
        i += 1
        if c != "\\":
            out.append(c)
            continue
        if i >= len(raw):
            break
        c = raw[i]
        i += 1
        if c == "u":
            digits = raw[i : i + 4]
            if len(digits) < 4 or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise PropertiesError(line, f"malformed \\uxxxx encoding: \\u{digits}")
            out.append(chr(int(digits, 16)))
            i += 4
        else:
            out.append(_ESCAPES.get(c, c))
    return "".join(out)


def _split_key(line: str) -> tuple[str, str]:
    """Split a logical line into raw key and raw value as ``Properties.load0`` does."""
    i = 0
    has_separator = False
    backslash = False
    while i < len(line):
        c = line[i]
        if c in "=:" and not backslash:
            has_separator = True
            break
        if c in _BLANKS and not backslash:
            break
        backslash = (not backslash) if c == "\\" else False
        i += 1
    key_end = i
    j = key_end + 1 if has_separator else key_end
    while j < len(line):
        c = line[j]
        if c not in _BLANKS:
            if not has_separator and c in "=:":
                has_separator = True
            else:
                break
        j += 1
    return line[:key_end], line[j:]


def parse_properties(text: str) -> dict[str, tuple[str, int]]:
    """Parse properties text into ``{key: (value, line)}``, keeping each key's line for errors."""
    result: dict[str, tuple[str, int]] = {}
    for number, line in logical_lines(text):
        raw_key, raw_value = _split_key(line)
        key = _unescape(raw_key, number)
        result[key] = (_unescape(raw_value, number), number)
    return result


def load_properties(text: str) -> dict[str, str]:
    """Parse properties text into a plain ``{key: value}`` mapping."""
    return {key: value for key, (value, _line) in parse_properties(text).items()}
