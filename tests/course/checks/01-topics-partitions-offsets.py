# Claims of notebooks/01-topics-partitions-offsets.ipynb, checked in its kernel after its last cell.
import os

from simkafka.model.partitioner import partition_for_key

assert all(frames[p]["offset"].tolist() == list(range(logs[p].log_end_offset)) for p in logs) and \
    all(len(frames[p]) > 0 for p in logs), "every partition's offsets are contiguous from 0"
assert len({len(f) for f in frames.values()}) > 1, "the partitions have different lengths: each counts its own"
assert all(partition_for_key(k.encode(), partitions) == p for p in frames for k in frames[p]["key"]), \
    "a key always lands in the partition murmur2 gives it"
assert batches[0].base_offset <= wanted <= batches[0].last_offset, "the read starts with the batch holding N"
assert fetched[0] == wanted and fetched == list(range(wanted, wanted + len(fetched))), \
    "a read from offset N returns offset N first, then the offsets after it"
assert entry.offset <= wanted and entry.offset >= holder.base_offset, "the index entry is at or below N, in N's segment"
assert len(segments_before) >= 3, "small segment.bytes rolled the log into several segments"
assert all(int(row.file[:20]) == row.base_offset and len(row.file) == 24 and row.file.endswith(".log")
           for row in segments_before.itertuples()), "each segment's file is named by its base offset in 20 digits"
assert list(segments_before["base_offset"][1:]) == list(segments_before["next_offset"][:-1]), \
    "each segment starts where the previous one ends"
gone = segments_before[segments_before["next_offset"] <= first.log_start_offset]
assert deleted == len(gone) >= 1, "retention deleted the segments wholly below the log start offset"
assert list(segments_after["base_offset"]) == list(segments_before["base_offset"][deleted:]), \
    "retention removes only whole segments, oldest first"
assert first.log_start_offset == segments_after["base_offset"].iloc[0], "the log start offset is the first kept segment's base"
assert remaining["offset"].tolist() == list(range(first.log_start_offset, first.log_end_offset)), \
    "every record from the log start offset on is still there"
assert sorted(f for f in os.listdir(first.dir) if f.endswith(".log")) == list(segments_after["file"]), \
    "the deleted segments' files are gone from disk"
