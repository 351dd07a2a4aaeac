"""Kafka's checkpoint file formats: exact bytes, atomic replacement, strict reading.

Cases follow Kafka's OffsetCheckpointFileWithFailureHandlerTest and
LeaderEpochCheckpointFileWithFailureHandlerTest (storage/src/test/java/org/apache/
kafka/storage/internals/checkpoint/) and the reader in CheckpointFile.java.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkafka.log import checkpoints as cp
from simkafka.log.checkpoints import (
    CheckpointFile,
    CheckpointFormatError,
    LeaderEpochCheckpointFile,
    OffsetCheckpointFile,
    java_split_whitespace,
)
from simkafka.log.epoch_cache import EpochEntry
from simkafka.log.errors import LogError


def test_file_names_are_kafkas() -> None:
    assert cp.RECOVERY_POINT_OFFSET_CHECKPOINT == "recovery-point-offset-checkpoint"
    assert cp.LOG_START_OFFSET_CHECKPOINT == "log-start-offset-checkpoint"
    assert cp.REPLICATION_OFFSET_CHECKPOINT == "replication-offset-checkpoint"
    assert cp.CLEANER_OFFSET_CHECKPOINT == "cleaner-offset-checkpoint"
    assert cp.LEADER_EPOCH_CHECKPOINT == "leader-epoch-checkpoint"


def test_persist_overwrite_and_reload(tmp_path: Path) -> None:
    # shouldPersistAndOverwriteAndReloadFile
    path = tmp_path / cp.REPLICATION_OFFSET_CHECKPOINT
    checkpoint = OffsetCheckpointFile(path)
    offsets = {("foo", 1): 5, ("bar", 2): 10}
    checkpoint.write(offsets)
    assert checkpoint.read() == offsets
    # The exact bytes: version, count, "topic partition offset" lines, '\n' endings.
    assert path.read_bytes() == b"0\n2\nfoo 1 5\nbar 2 10\n"
    checkpoint.write({})
    assert checkpoint.read() == {}
    assert path.read_bytes() == b"0\n0\n"
    assert not Path(str(path) + ".tmp").exists()


def test_multiple_lines(tmp_path: Path) -> None:
    # shouldHandleMultipleLines
    offsets = {("foo", p): 5 for p in range(1, 6)} | {("bar", p): 10 for p in range(6, 11)}
    checkpoint = OffsetCheckpointFile(tmp_path / "cp")
    checkpoint.write(offsets)
    assert checkpoint.read() == offsets


def test_constructor_creates_empty_file(tmp_path: Path) -> None:
    # shouldReturnEmptyMapForEmptyFile; CheckpointFile's constructor calls
    # Files.createFile, so a fresh log dir has an empty (zero-byte) checkpoint.
    path = tmp_path / cp.RECOVERY_POINT_OFFSET_CHECKPOINT
    checkpoint = OffsetCheckpointFile(path)
    assert path.exists() and path.read_bytes() == b""
    assert checkpoint.read() == {}
    path.unlink()
    assert checkpoint.read() == {}  # a missing file also reads as empty


def test_constructor_keeps_existing_content(tmp_path: Path) -> None:
    path = tmp_path / "cp"
    path.write_bytes(b"0\n1\nt 3 42\n")
    assert OffsetCheckpointFile(path).read() == {("t", 3): 42}


def test_unrecognised_version(tmp_path: Path) -> None:
    # shouldThrowIfVersionIsNotRecognised: a file written with version 1 is refused.
    path = tmp_path / "cp"
    CheckpointFile(path, 1, OffsetCheckpointFile.FORMATTER).write([(("foo", 5), 10)])
    assert path.read_bytes() == b"1\n1\nfoo 5 10\n"
    with pytest.raises(CheckpointFormatError) as info:
        OffsetCheckpointFile(path).read()
    err = info.value
    assert isinstance(err, LogError)
    assert err.line_number == 1 and err.file == str(path)
    assert "unrecognised version 1, expected 0" in str(err)
    assert str(path) in str(err) and "line 1" in str(err)


def test_leader_epoch_round_trip(tmp_path: Path) -> None:
    # LeaderEpochCheckpointFileWithFailureHandlerTest.shouldPersistAndOverwriteAndReloadFile
    checkpoint = LeaderEpochCheckpointFile.in_directory(tmp_path)
    entries = [EpochEntry(0, 1), EpochEntry(1, 2)]
    checkpoint.write(entries)
    assert checkpoint.read() == entries
    assert (tmp_path / "leader-epoch-checkpoint").read_bytes() == b"0\n2\n0 1\n1 2\n"
    checkpoint.write([EpochEntry(3, 4), EpochEntry(4, 5)], sync=False)
    assert checkpoint.read() == [EpochEntry(3, 4), EpochEntry(4, 5)]


# Malformed files: (content, line number reported, words in the message).
MALFORMED = [
    (b"x\n", 1, "version 'x' is not a decimal integer"),
    (b" 0\n0\n", 1, "not a decimal integer"),  # Integer.parseInt refuses blanks
    (b"0\nfoo\n", 2, "entry count 'foo'"),
    (b"0\n-1\n", 2, "negative entry count -1"),
    (b"0\n2\nfoo 1 5\n", None, "expected 2 entries (line 2) but found 1"),
    (b"0\n1\nfoo 1 5\nbar 2 6\n", None, "expected 1 entries (line 2) but found 2"),
    (b"0\n1\nfoo 1\n", 3, "expected 3 fields"),
    (b"0\n1\nfoo 1 5 7\n", 3, "expected 3 fields"),
    (b"0\n1\n foo 1 5\n", 3, "found 4"),  # leading blank -> leading empty field
    (b"0\n1\nfoo x 5\n", 3, "partition 'x'"),
    (b"0\n1\nfoo 1 5.0\n", 3, "offset '5.0'"),
    (b"0\n1\nfoo 1 1_000\n", 3, "offset '1_000'"),  # Python int() would accept this
    (b"0\n1\nfoo 2147483648 5\n", 3, "out of int32 range"),
    (b"0\n1\nfoo 1 9223372036854775808\n", 3, "out of int64 range"),
    (b"0\n2\nfoo 1 5\n\n", 4, "expected 3 fields"),  # a blank line is an entry
    (b"0\n1\nfoo 1 \xff\n", 3, "not valid UTF-8"),
]


@pytest.mark.parametrize(("content", "line", "message"), MALFORMED)
def test_malformed_offset_checkpoint(
    tmp_path: Path, content: bytes, line: int | None, message: str
) -> None:
    path = tmp_path / "cleaner-offset-checkpoint"
    path.write_bytes(content)
    with pytest.raises(CheckpointFormatError) as info:
        OffsetCheckpointFile(path).read()
    assert info.value.line_number == line
    assert message in str(info.value)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"0\n1\n-1 5\n", 3, "negative leader epoch -1"),
        (b"0\n1\n1 -5\n", 3, "negative start offset -5"),
        (b"0\n1\n1 5 6\n", 3, "expected 2 fields"),
        (b"0\n2\n1 5\n", None, "expected 2 entries"),
    ],
)
def test_malformed_leader_epoch_checkpoint(
    tmp_path: Path, content: bytes, line: int | None, message: str
) -> None:
    path = tmp_path / "leader-epoch-checkpoint"
    path.write_bytes(content)
    with pytest.raises(CheckpointFormatError) as info:
        LeaderEpochCheckpointFile(path).read()
    assert info.value.line_number == line
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", {}),  # CheckpointReadBuffer: no version line -> empty
        (b"0\n", {}),  # version but no count line -> empty, not an error
        (b"0", {}),
        (b"0\r\n1\r\nfoo 1 5\r\n", {("foo", 1): 5}),  # readLine accepts \r\n and \r
        (b"0\r1\rfoo 1 5", {("foo", 1): 5}),
        (b"0\n1\nfoo\t1   5  \n", {("foo", 1): 5}),  # \s+ separators, trailing blank ok
        (b"+0\n+1\nfoo +1 -5\n", {("foo", 1): -5}),  # parseInt takes a sign; Kafka
        # does not check signs of offsets or partitions
        (b"0\n2\nfoo 1 5\nfoo 1 7\n", {("foo", 1): 7}),  # duplicate: last wins (HashMap)
    ],
)
def test_lenient_reads_match_kafka(tmp_path: Path, content: bytes, expected: dict) -> None:
    path = tmp_path / "cp"
    path.write_bytes(content)
    assert OffsetCheckpointFile(path).read() == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # Values computed by Java 17's String.split("\\s+").
        ("a b c", ["a", "b", "c"]),
        (" a b", ["", "a", "b"]),
        ("a b  ", ["a", "b"]),
        ("", [""]),
        ("abc", ["abc"]),
        ("   ", []),
        ("a\t\x0bb\x0cc", ["a", "b", "c"]),
    ],
)
def test_java_split_whitespace(line: str, expected: list[str]) -> None:
    assert java_split_whitespace(line) == expected


def test_write_rejects_unwritable_topic(tmp_path: Path) -> None:
    checkpoint = OffsetCheckpointFile(tmp_path / "cp")
    for bad in ("has space", "", "tab\there", "nl\nx"):
        with pytest.raises(ValueError):
            checkpoint.write({(bad, 0): 1})
    with pytest.raises(ValueError):
        checkpoint.write({("t", 2**31): 1})
    with pytest.raises(ValueError):
        checkpoint.write({("t", 0): 2**63})
    assert checkpoint.read() == {}


def test_write_is_atomic_rename_with_fsyncs(tmp_path: Path, monkeypatch) -> None:
    """CheckpointFile.write: tmp file, fsync it, rename, fsync the directory."""
    path = tmp_path / "cp"
    checkpoint = OffsetCheckpointFile(path)
    checkpoint.write({("a", 0): 1})
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    before = {"content": b"0\n1\na 0 1\n"}

    def fsync(fd: int) -> None:
        events.append("fsync-dir" if os.path.isdir(f"/proc/self/fd/{fd}") else "fsync-file")
        real_fsync(fd)

    def replace(src, dst) -> None:
        # At the moment of the rename the old content is still in place.
        assert path.read_bytes() == before["content"]
        assert Path(src).name == "cp.tmp"
        events.append("rename")
        real_replace(src, dst)
        before["content"] = path.read_bytes()

    monkeypatch.setattr(cp.os, "fsync", fsync)
    monkeypatch.setattr(cp.os, "replace", replace)
    checkpoint.write({("b", 0): 2})
    assert events == ["fsync-file", "rename", "fsync-dir"]
    assert path.read_bytes() == b"0\n1\nb 0 2\n"
    events.clear()
    checkpoint.write({("c", 0): 3}, sync=False)
    assert events == ["rename"]
    assert checkpoint.read() == {("c", 0): 3}


def test_failed_write_keeps_old_content_and_no_tmp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "cp"
    checkpoint = OffsetCheckpointFile(path)
    checkpoint.write({("a", 0): 1})

    def boom(fd: int) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(cp.os, "fsync", boom)
    with pytest.raises(OSError):
        checkpoint.write({("b", 0): 2})
    assert checkpoint.read() == {("a", 0): 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cp"]


def test_write_if_dir_exists(tmp_path: Path) -> None:
    # testWriteIfDirExistsShouldNotThrowWhenDirNotExists
    d = tmp_path / "dir"
    d.mkdir()
    checkpoint = LeaderEpochCheckpointFile(d / "test-checkpoint")
    d.rename(tmp_path / "dir-renamed")
    assert checkpoint.write_if_dir_exists([EpochEntry(1, 42)]) is False
    with pytest.raises(FileNotFoundError):
        checkpoint.write([EpochEntry(1, 42)])


_topics = st.text(alphabet="abcXYZ019._-", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.dictionaries(
        st.tuples(_topics, st.integers(-(2**31), 2**31 - 1)),
        st.integers(-(2**63), 2**63 - 1),
        max_size=20,
    )
)
def test_offset_round_trip(tmp_path_factory, offsets: dict[tuple[str, int], int]) -> None:
    path = tmp_path_factory.mktemp("cp") / "cp"
    checkpoint = OffsetCheckpointFile(path)
    checkpoint.write(offsets)
    assert OffsetCheckpointFile(path).read() == offsets
    lines = path.read_text().split("\n")
    assert lines[0] == "0" and lines[1] == str(len(offsets)) and lines[-1] == ""
