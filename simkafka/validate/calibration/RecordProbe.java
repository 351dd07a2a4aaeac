/*
 * simkafka calibration probe: the per-record and per-batch work of Kafka's Java producer,
 * broker and consumer, re-implemented in plain Java 17 (no Kafka jars), timed on this JVM.
 *
 * Written for `simkafka calibrate` (simkafka/validate/calibration/jvm.py), which compiles
 * it into a temporary directory and runs
 *
 *     java -cp DIR RecordProbe <quick|full> <scratch directory>
 *
 * It prints one JSON object: nanoseconds per record or per batch for each path below (the
 * fastest of many short rounds after a JIT warm-up), and the JVM's own CRC32C and copy
 * speed per byte for comparison.
 *
 * What each path does (read from Kafka's sources for the work they do, written anew here):
 *
 *   producer_record  KafkaProducer.send -> RecordAccumulator.append: a ProducerRecord, the
 *                    timestamp, the sticky partition, then under the deque's lock
 *                    MemoryRecordsBuilder.appendWithOffset (DefaultRecord.writeTo: varint
 *                    length, attributes, varlong timestamp delta, varint offset delta, key,
 *                    value, header count), a FutureRecordMetadata and its callback thunk.
 *   producer_batch   the Sender's per-batch work, CRC excluded (charged per byte): a buffer
 *                    from the BufferPool (its lock) and back, a new ProducerBatch, the drain
 *                    under the deque's lock, MemoryRecordsBuilder.close writing the 61-byte
 *                    v2 header, and completing the batch's result.
 *   broker_record    LogValidator's per-record loop over an uncompressed v2 batch:
 *                    DefaultRecord.readFrom (varints, key and value slices), then
 *                    validateRecord (magic, key of a compacted topic, timestamp bounds), the
 *                    max timestamp and the expected-offset check.
 *   broker_batch     LogValidator.validateBatch (offset range, count, control and sequence
 *                    checks), the in-place rewrites (last offset, leader epoch), and
 *                    UnifiedLog.append's batch work: FileChannel.write of the batch into the
 *                    active segment (a small batch, so this is the write call, not the copy),
 *                    one offset-index and one time-index entry, the producer-state lookup,
 *                    the LogAppendInfo.
 *   consumer_record  CompletedFetch.nextFetchedRecord / parseRecord: DefaultRecord.readFrom,
 *                    the value copied out by ByteArrayDeserializer, a ConsumerRecord.
 *
 * Records carry 100-byte values and no key, as kafka-producer-perf-test sends them; the
 * per-byte part of the work (CRC32C, copies, compression) is measured apart.
 */

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

public final class RecordProbe {

    static final int VALUE_SIZE = 100;
    static final int BATCH_SIZE = 16384; // the producer's default batch.size
    static final int HEADER_SIZE = 61; // DefaultRecordBatch.RECORD_BATCH_OVERHEAD
    static final byte MAGIC_V2 = 2;

    /** Keeps every result alive so the JIT cannot drop the work. */
    static volatile long sink;

    // ---- varints, as ByteUtils writes and reads them (zig-zag) ----------------------------

    static void writeVarint(int value, ByteBuffer out) {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xffffff80) != 0) {
            out.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    static void writeVarlong(long value, ByteBuffer out) {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xffffffffffffff80L) != 0L) {
            out.put((byte) ((v & 0x7f) | 0x80));
            v >>>= 7;
        }
        out.put((byte) v);
    }

    static int sizeOfVarint(int value) {
        int v = (value << 1) ^ (value >> 31);
        int bytes = 1;
        while ((v & 0xffffff80) != 0) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    static int sizeOfVarlong(long value) {
        long v = (value << 1) ^ (value >> 63);
        int bytes = 1;
        while ((v & 0xffffffffffffff80L) != 0L) {
            bytes++;
            v >>>= 7;
        }
        return bytes;
    }

    static int readVarint(ByteBuffer in) {
        int value = 0;
        int i = 0;
        int b;
        while (((b = in.get()) & 0x80) != 0) {
            value |= (b & 0x7f) << i;
            i += 7;
            if (i > 28) throw new IllegalArgumentException("varint too long");
        }
        value |= b << i;
        return (value >>> 1) ^ -(value & 1);
    }

    static long readVarlong(ByteBuffer in) {
        long value = 0L;
        int i = 0;
        long b;
        while (((b = in.get()) & 0x80) != 0) {
            value |= (b & 0x7f) << i;
            i += 7;
            if (i > 63) throw new IllegalArgumentException("varlong too long");
        }
        value |= b << i;
        return (value >>> 1) ^ -(value & 1);
    }

    // ---- one record: DefaultRecord.writeTo and readFrom --------------------------------------

    static final Object[] NO_HEADERS = new Object[0];

    static int bodySize(int offsetDelta, long timestampDelta, byte[] key, byte[] value) {
        int size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
        size += key == null ? 1 : sizeOfVarint(key.length) + key.length;
        size += value == null ? 1 : sizeOfVarint(value.length) + value.length;
        return size + sizeOfVarint(0); // no headers
    }

    static int writeRecord(ByteBuffer out, int offsetDelta, long timestampDelta, byte[] key, byte[] value) {
        int body = bodySize(offsetDelta, timestampDelta, key, value);
        writeVarint(body, out);
        out.put((byte) 0); // attributes
        writeVarlong(timestampDelta, out);
        writeVarint(offsetDelta, out);
        if (key == null) {
            writeVarint(-1, out);
        } else {
            writeVarint(key.length, out);
            out.put(key);
        }
        if (value == null) {
            writeVarint(-1, out);
        } else {
            writeVarint(value.length, out);
            out.put(value);
        }
        writeVarint(0, out);
        return sizeOfVarint(body) + body;
    }

    /** What DefaultRecord holds once read. */
    static final class ReadRecord {
        final int sizeInBytes;
        final byte attributes;
        final long offset;
        final long timestamp;
        final int sequence;
        final ByteBuffer key;
        final ByteBuffer value;
        final Object[] headers;

        ReadRecord(int sizeInBytes, byte attributes, long offset, long timestamp, int sequence,
                   ByteBuffer key, ByteBuffer value, Object[] headers) {
            this.sizeInBytes = sizeInBytes;
            this.attributes = attributes;
            this.offset = offset;
            this.timestamp = timestamp;
            this.sequence = sequence;
            this.key = key;
            this.value = value;
            this.headers = headers;
        }

        boolean hasKey() { return key != null; }
    }

    static ReadRecord readRecord(ByteBuffer in, long baseOffset, long baseTimestamp, int baseSequence) {
        int sizeOfBody = readVarint(in);
        if (in.remaining() < sizeOfBody) throw new IllegalStateException("truncated record");
        int start = in.position();
        byte attributes = in.get();
        long timestampDelta = readVarlong(in);
        long timestamp = baseTimestamp + timestampDelta;
        int offsetDelta = readVarint(in);
        long offset = baseOffset + offsetDelta;
        int sequence = baseSequence >= 0 ? baseSequence + offsetDelta : -1;
        ByteBuffer key = null;
        int keySize = readVarint(in);
        if (keySize >= 0) {
            key = in.slice(in.position(), keySize);
            in.position(in.position() + keySize);
        }
        ByteBuffer value = null;
        int valueSize = readVarint(in);
        if (valueSize >= 0) {
            value = in.slice(in.position(), valueSize);
            in.position(in.position() + valueSize);
        }
        int headerCount = readVarint(in);
        if (headerCount < 0) throw new IllegalStateException("negative header count");
        Object[] headers = headerCount == 0 ? NO_HEADERS : new Object[headerCount];
        if (in.position() - start != sizeOfBody) throw new IllegalStateException("record size mismatch");
        return new ReadRecord(sizeOfVarint(sizeOfBody) + sizeOfBody, attributes, offset, timestamp,
            sequence, key, value, headers);
    }

    // ---- the batch header (DefaultRecordBatch) -----------------------------------------------

    static void writeHeader(ByteBuffer buf, long baseOffset, int lastOffsetDelta, int sizeInBytes,
                            long firstTimestamp, long maxTimestamp, int numRecords) {
        buf.putLong(0, baseOffset);
        buf.putInt(8, sizeInBytes - 12);
        buf.putInt(12, -1); // partition leader epoch
        buf.put(16, MAGIC_V2);
        buf.putInt(17, 0); // crc, computed over the rest by the caller
        buf.putShort(21, (short) 0); // attributes: no compression, CREATE_TIME
        buf.putInt(23, lastOffsetDelta);
        buf.putLong(27, firstTimestamp);
        buf.putLong(35, maxTimestamp);
        buf.putLong(43, -1L); // producer id
        buf.putShort(51, (short) -1);
        buf.putInt(53, -1); // base sequence
        buf.putInt(57, numRecords);
    }

    static long crc(ByteBuffer buf, int from, int to) {
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate().position(from).limit(to));
        return crc.getValue();
    }

    /** A whole closed batch of `count` records of VALUE_SIZE-byte values. */
    static ByteBuffer buildBatch(int count, byte[] value, long now) {
        ByteBuffer buf = ByteBuffer.allocate(HEADER_SIZE + count * (VALUE_SIZE + 16));
        buf.position(HEADER_SIZE);
        for (int i = 0; i < count; i++) writeRecord(buf, i, 0L, null, value);
        int size = buf.position();
        writeHeader(buf, 0L, count - 1, size, now, now, count);
        buf.putInt(17, (int) crc(buf, 21, size));
        buf.limit(size);
        buf.position(0);
        return buf;
    }

    // ---- the producer -------------------------------------------------------------------------

    static final class ProducerRecord {
        final String topic;
        final Integer partition;
        final byte[] key;
        final byte[] value;
        final Long timestamp;

        ProducerRecord(String topic, Integer partition, byte[] key, byte[] value, Long timestamp) {
            this.topic = topic;
            this.partition = partition;
            this.key = key;
            this.value = value;
            this.timestamp = timestamp;
        }
    }

    static final class FutureRecordMetadata {
        final Object result;
        final int batchIndex;
        final long createTimestamp;
        final int keySize;
        final int valueSize;

        FutureRecordMetadata(Object result, int batchIndex, long createTimestamp, int keySize, int valueSize) {
            this.result = result;
            this.batchIndex = batchIndex;
            this.createTimestamp = createTimestamp;
            this.keySize = keySize;
            this.valueSize = valueSize;
        }
    }

    static final class Thunk {
        final Object callback;
        final FutureRecordMetadata future;

        Thunk(Object callback, FutureRecordMetadata future) {
            this.callback = callback;
            this.future = future;
        }
    }

    /** An open batch: MemoryRecordsBuilder's state and ProducerBatch's thunks. */
    static final class OpenBatch {
        final ByteBuffer buffer;
        final List<Thunk> thunks = new ArrayList<>();
        final CountDownLatch produced = new CountDownLatch(1);
        final long createdMs;
        int records;
        long baseTimestamp = -1L;
        long maxTimestamp = -1L;

        OpenBatch(ByteBuffer buffer, long createdMs) {
            this.buffer = buffer;
            this.createdMs = createdMs;
            buffer.clear();
            buffer.position(HEADER_SIZE);
        }

        boolean hasRoomFor(int size) {
            return buffer.remaining() >= size;
        }

        FutureRecordMetadata tryAppend(long timestamp, byte[] key, byte[] value, Object callback) {
            int estimate = 5 + bodySize(records, 0L, key, value);
            if (!hasRoomFor(estimate)) return null;
            if (baseTimestamp < 0) baseTimestamp = timestamp;
            writeRecord(buffer, records, timestamp - baseTimestamp, key, value);
            if (timestamp > maxTimestamp) maxTimestamp = timestamp;
            FutureRecordMetadata future = new FutureRecordMetadata(produced, records, timestamp,
                key == null ? -1 : key.length, value == null ? -1 : value.length);
            thunks.add(new Thunk(callback, future));
            records++;
            return future;
        }
    }

    /** The producer's send() path for one record, into `deque`'s open batch. */
    static final class Accumulator {
        final ArrayDeque<OpenBatch> deque = new ArrayDeque<>();
        final ByteBuffer reusable = ByteBuffer.allocate(BATCH_SIZE);
        int stickyPartition = 3;

        long send(byte[] value) {
            ProducerRecord record = new ProducerRecord("probe", null, null, value, null);
            long now = System.currentTimeMillis();
            long timestamp = record.timestamp == null ? now : record.timestamp;
            byte[] serializedKey = record.key; // ByteArraySerializer hands the array through
            byte[] serializedValue = record.value;
            int partition = record.partition != null ? record.partition : stickyPartition;
            FutureRecordMetadata future;
            synchronized (deque) {
                OpenBatch last = deque.peekLast();
                future = last == null ? null : last.tryAppend(timestamp, serializedKey, serializedValue, null);
                if (future == null) {
                    // the batch is full: the Sender would drain it; the probe starts a new one
                    deque.pollLast();
                    OpenBatch batch = new OpenBatch(reusable, now);
                    deque.addLast(batch);
                    future = batch.tryAppend(timestamp, serializedKey, serializedValue, null);
                }
            }
            return future.batchIndex + partition;
        }
    }

    /** BufferPool: a lock, a free list of batch.size buffers. */
    static final class BufferPool {
        final ReentrantLock lock = new ReentrantLock();
        final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
        long availableMemory = 32L << 20;

        ByteBuffer allocate(int size) {
            lock.lock();
            try {
                ByteBuffer buffer = size == BATCH_SIZE ? free.pollFirst() : null;
                if (buffer == null) {
                    availableMemory -= size;
                    buffer = ByteBuffer.allocate(size);
                }
                return buffer;
            } finally {
                lock.unlock();
            }
        }

        void deallocate(ByteBuffer buffer) {
            lock.lock();
            try {
                buffer.clear();
                free.addLast(buffer);
            } finally {
                lock.unlock();
            }
        }
    }

    /** The Sender's per-batch work, CRC32C left out (it is charged per byte). */
    static long batchLifecycle(BufferPool pool, ArrayDeque<OpenBatch> deque, byte[] value, long now) {
        ByteBuffer buffer = pool.allocate(BATCH_SIZE);
        OpenBatch batch = new OpenBatch(buffer, now);
        batch.tryAppend(now, null, value, null); // one record: the per-record work is measured apart
        synchronized (deque) {
            deque.addLast(batch);
        }
        OpenBatch drained;
        synchronized (deque) {
            drained = deque.pollFirst();
        }
        int size = drained.buffer.position();
        writeHeader(drained.buffer, 0L, drained.records - 1, size, drained.baseTimestamp,
            drained.maxTimestamp, drained.records);
        drained.produced.countDown(); // ProduceRequestResult.done
        long result = size + drained.thunks.size();
        pool.deallocate(drained.buffer);
        return result;
    }

    // ---- the broker ---------------------------------------------------------------------------

    static final long TIMESTAMP_DIFF_MAX_MS = Long.MAX_VALUE; // message.timestamp.*.max.ms defaults

    /** LogValidator's per-record loop over one uncompressed batch. */
    static long validateRecords(ByteBuffer batch, long now, boolean compactedTopic) {
        ByteBuffer in = batch.duplicate();
        long baseOffset = in.getLong(0);
        long baseTimestamp = in.getLong(27);
        int baseSequence = in.getInt(53);
        int count = in.getInt(57);
        byte magic = in.get(16);
        in.position(HEADER_SIZE);
        long maxTimestamp = -1L;
        long expectedOffset = 0L;
        boolean inPlace = true;
        for (int i = 0; i < count; i++) {
            ReadRecord record = readRecord(in, baseOffset, baseTimestamp, baseSequence);
            if (magic != MAGIC_V2) throw new IllegalStateException("record magic does not match the batch's");
            if (compactedTopic && !record.hasKey()) throw new IllegalStateException("no key in a compacted topic");
            if (record.timestamp != -1L && Math.abs(record.timestamp - now) > TIMESTAMP_DIFF_MAX_MS)
                throw new IllegalStateException("timestamp out of range");
            if (record.timestamp > maxTimestamp) maxTimestamp = record.timestamp;
            if (record.offset != expectedOffset++) inPlace = false;
        }
        return maxTimestamp + (inPlace ? 1 : 0) + in.position();
    }

    /** UnifiedLog.append's per-batch work for a validated batch. */
    static final class PartitionLog {
        final FileChannel segment;
        final MappedByteBuffer offsetIndex;
        final MappedByteBuffer timeIndex;
        final Map<Long, long[]> producers = new HashMap<>();
        long logEndOffset;
        long highWatermark;
        int bytesSinceIndexEntry;

        PartitionLog(Path dir) throws IOException {
            segment = FileChannel.open(dir.resolve("00000000000000000000.log"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            offsetIndex = mapIndex(dir.resolve("00000000000000000000.index"));
            timeIndex = mapIndex(dir.resolve("00000000000000000000.timeindex"));
        }

        static MappedByteBuffer mapIndex(Path path) throws IOException {
            try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
                file.setLength(10 << 20);
                return file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 10 << 20);
            }
        }

        long append(ByteBuffer batch, int leaderEpoch) throws IOException {
            // validateBatch
            long baseOffset = batch.getLong(0);
            int lastOffsetDelta = batch.getInt(23);
            int count = batch.getInt(57);
            byte magic = batch.get(16);
            short attributes = batch.getShort(21);
            long producerId = batch.getLong(43);
            int baseSequence = batch.getInt(53);
            long countFromOffsets = lastOffsetDelta + 1L;
            if (magic != MAGIC_V2 || countFromOffsets <= 0 || count <= 0 || countFromOffsets != count)
                throw new IllegalStateException("invalid batch");
            if ((attributes & 0x20) != 0) throw new IllegalStateException("control batch from a client");
            if (producerId >= 0 && baseSequence < 0) throw new IllegalStateException("invalid sequence");
            // assign offsets and the leader epoch in place (outside the CRC)
            long first = logEndOffset;
            long last = first + lastOffsetDelta;
            batch.putLong(0, first);
            batch.putInt(12, leaderEpoch);
            long maxTimestamp = batch.getLong(35);
            // LogSegment.append: the write, then the index entries
            int size = batch.remaining();
            if (segment.position() > (64 << 20)) segment.position(0);
            long position = segment.position();
            segment.write(batch.duplicate());
            bytesSinceIndexEntry += size;
            int slot = (int) ((last & 0xffff) * 8 % (10 << 20));
            offsetIndex.putInt(slot, (int) (last - 0));
            offsetIndex.putInt(slot + 4, (int) position);
            int timeSlot = (int) ((last & 0xffff) * 12 % ((10 << 20) - 12));
            timeIndex.putLong(timeSlot, maxTimestamp);
            timeIndex.putInt(timeSlot + 8, (int) last);
            bytesSinceIndexEntry = 0;
            // producer state (an idempotent producer's entry), end offset, high watermark
            long[] state = producers.computeIfAbsent(producerId, id -> new long[3]);
            state[0] = last;
            logEndOffset = last + 1;
            highWatermark = logEndOffset;
            Object info = new Object[] {first, last, maxTimestamp, count, size, Optional.empty()};
            return last + position + info.hashCode() % 2;
        }
    }

    // ---- the consumer -------------------------------------------------------------------------

    static final class ConsumerRecord {
        final String topic;
        final int partition;
        final long offset;
        final long timestamp;
        final int serializedKeySize;
        final int serializedValueSize;
        final byte[] key;
        final byte[] value;
        final Object[] headers;
        final Optional<Integer> leaderEpoch;

        ConsumerRecord(String topic, int partition, long offset, long timestamp, int serializedKeySize,
                       int serializedValueSize, byte[] key, byte[] value, Object[] headers,
                       Optional<Integer> leaderEpoch) {
            this.topic = topic;
            this.partition = partition;
            this.offset = offset;
            this.timestamp = timestamp;
            this.serializedKeySize = serializedKeySize;
            this.serializedValueSize = serializedValueSize;
            this.key = key;
            this.value = value;
            this.headers = headers;
            this.leaderEpoch = leaderEpoch;
        }
    }

    static byte[] toArray(ByteBuffer buffer) {
        if (buffer == null) return null;
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    /** CompletedFetch: parse each record of a batch into a ConsumerRecord. */
    static long consumeRecords(ByteBuffer batch, List<ConsumerRecord> out) {
        ByteBuffer in = batch.duplicate();
        long baseOffset = in.getLong(0);
        long baseTimestamp = in.getLong(27);
        int baseSequence = in.getInt(53);
        int count = in.getInt(57);
        Optional<Integer> epoch = Optional.of(in.getInt(12));
        in.position(HEADER_SIZE);
        out.clear();
        for (int i = 0; i < count; i++) {
            ReadRecord record = readRecord(in, baseOffset, baseTimestamp, baseSequence);
            byte[] key = toArray(record.key);
            byte[] value = toArray(record.value);
            out.add(new ConsumerRecord("probe", 0, record.offset, record.timestamp,
                key == null ? -1 : key.length, value == null ? -1 : value.length, key, value,
                record.headers, epoch));
        }
        return out.size() + out.get(out.size() - 1).offset;
    }

    // ---- timing -------------------------------------------------------------------------------

    interface Work {
        /** Do `n` units of work; return something derived from it. */
        long run(int n) throws Exception;
    }

    /**
     * Nanoseconds per unit: warm up (the JIT compiles the hot loops), then the fastest of
     * `trials` short timed rounds -- on a shared machine other processes only add time.
     */
    static double time(Work work, int unitsPerRound, double warmupSeconds, int trials) throws Exception {
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        long acc = 0;
        while (System.nanoTime() < warmupEnd) acc += work.run(unitsPerRound);
        double[] perUnit = new double[trials];
        for (int t = 0; t < trials; t++) {
            long start = System.nanoTime();
            acc += work.run(unitsPerRound);
            perUnit[t] = (System.nanoTime() - start) / (double) unitsPerRound;
        }
        sink += acc;
        Arrays.sort(perUnit);
        return perUnit[0];
    }

    static byte[] payload(int size, long seed) {
        byte[] out = new byte[size];
        long x = seed;
        for (int i = 0; i < size; i++) {
            x = x * 6364136223846793005L + 1442695040888963407L;
            out[i] = (byte) ('a' + ((x >>> 33) % 26));
        }
        return out;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("quick");
        Path scratch = Files.createTempDirectory(Paths.get(args.length > 1 ? args[1] : System.getProperty("java.io.tmpdir")),
            "simkafka-probe-");
        double warmup = quick ? 0.3 : 0.8;
        int trials = quick ? 9 : 81;
        byte[] value = payload(VALUE_SIZE, 42);
        long now = System.currentTimeMillis();

        Accumulator accumulator = new Accumulator();
        double producerRecord = time(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) acc += accumulator.send(value);
            return acc;
        }, 20_000, warmup, trials);

        BufferPool pool = new BufferPool();
        ArrayDeque<OpenBatch> deque = new ArrayDeque<>();
        double producerBatch = time(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) acc += batchLifecycle(pool, deque, value, now);
            return acc;
        }, 5_000, warmup, trials);

        int recordsPerBatch = 100;
        ByteBuffer batch = buildBatch(recordsPerBatch, value, now);
        double brokerRecord = time(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) acc += validateRecords(batch, now, false);
            return acc;
        }, 200, warmup, trials) / recordsPerBatch;

        PartitionLog log = new PartitionLog(scratch);
        ByteBuffer small = buildBatch(1, value, now);
        double brokerBatch;
        try {
            brokerBatch = time(n -> {
                long acc = 0;
                for (int i = 0; i < n; i++) {
                    small.putLong(0, 0L);
                    acc += log.append(small, 7);
                }
                return acc;
            }, 2_000, warmup, trials);
        } finally {
            log.segment.close();
        }

        List<ConsumerRecord> consumed = new ArrayList<>(recordsPerBatch);
        double consumerRecord = time(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) acc += consumeRecords(batch, consumed);
            return acc;
        }, 200, warmup, trials) / recordsPerBatch;

        byte[] block = payload(64 << 10, 7);
        byte[] copy = new byte[block.length];
        CRC32C crc32c = new CRC32C();
        double crcPerByte = time(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) {
                crc32c.reset();
                crc32c.update(block, 0, block.length);
                acc += crc32c.getValue();
            }
            return acc;
        }, 200, warmup, trials) / block.length;
        double copyPerByte = time(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) {
                System.arraycopy(block, 0, copy, 0, block.length);
                acc += copy[i % copy.length];
            }
            return acc;
        }, 200, warmup, trials) / block.length;

        for (String name : new String[] {"00000000000000000000.log", "00000000000000000000.index",
                "00000000000000000000.timeindex"}) {
            Files.deleteIfExists(scratch.resolve(name));
        }
        Files.deleteIfExists(scratch);

        System.out.println("{"
            + "\"jvm\": \"" + System.getProperty("java.vm.name") + " " + System.getProperty("java.version") + "\", "
            + "\"value_bytes\": " + VALUE_SIZE + ", "
            + "\"producer_record_ns\": " + producerRecord + ", "
            + "\"producer_batch_ns\": " + producerBatch + ", "
            + "\"broker_record_ns\": " + brokerRecord + ", "
            + "\"broker_batch_ns\": " + brokerBatch + ", "
            + "\"consumer_record_ns\": " + consumerRecord + ", "
            + "\"crc32c_ns_per_byte\": " + crcPerByte + ", "
            + "\"copy_ns_per_byte\": " + copyPerByte + ", "
            + "\"sink\": " + (sink & 1)
            + "}");
    }
}
