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
 *   producer_record  KafkaProducer.send as kafka-producer-perf-test calls it, per record, at
 *                    100-byte values (and producer_record_1k at 1 KiB): a new ProducerRecord
 *                    (its RecordHeaders) and PerfCallback, then send(): interceptors (none),
 *                    AppendCallbacks, the clock, waitOnMetadata with the metadata present
 *                    (Cluster snapshot, invalid-topic set, the synchronized
 *                    ProducerMetadata.add, partition count), both ByteArraySerializer calls,
 *                    partition() (null key: the built-in partitioner's), headers set read-only,
 *                    estimateSizeInBytesUpperBound and ensureValidRecordSize; then
 *                    RecordAccumulator.append: the topic's TopicInfo and the partition's deque
 *                    (ConcurrentHashMap), the sticky partition, and under the deque's lock
 *                    ProducerBatch.tryAppend (hasRoomFor, MemoryRecordsBuilder.appendWithOffset:
 *                    DefaultRecord.writeTo through DataOutputStream -- varints, the value
 *                    copied --, a FutureRecordMetadata and its Thunk) and
 *                    BuiltInPartitioner.updatePartitionInfo; when the batch is full, the
 *                    new-batch path (BufferPool, MemoryRecordsBuilder, ProducerBatch,
 *                    Selector.wakeup for the Sender), so it is amortised at the batch size;
 *                    the collectors' time for all that garbage added per record.
 *   producer_append  the bare inner loop for comparison: hasRoomFor + appendWithOffset.
 *   producer_ack_record  the Sender completing an acknowledged batch of 100-byte records, per
 *                    record: ProducerBatch.completeFutureAndFireCallbacks -- per record
 *                    FutureRecordMetadata.value (a RecordMetadata), AppendCallbacks.onCompletion
 *                    (interceptors, none) and the PerfCallback (ProducerPerformance's
 *                    Stats.record); the batch's ProduceRequestResult set and done amortised.
 *   producer_batch   the Sender's per-batch work, CRC excluded (charged per byte): the drain
 *                    under the deque's lock, MemoryRecordsBuilder.close writing the 61-byte
 *                    v2 header, completing the batch's result, the buffer back to the
 *                    BufferPool (its lock). Making the batch is send()'s, in producer_record.
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
 * Records carry 100-byte values and no key, as kafka-producer-perf-test sends them (send()
 * also at 1 KiB); the per-byte part of the Sender's and broker's work (CRC32C, copies,
 * compression) is measured apart. The classes below are named after Kafka's; each does the
 * work its namesake does on this path, in the same order, with the same allocations.
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

    // ---- the producer: KafkaProducer.send -> RecordAccumulator.append -> ProducerBatch ------
    //
    // The classes below are named after Kafka's and do the same work in the same order on
    // the path a null-key byte[] record takes with the built-in partitioner, no
    // interceptors, no transactions and metadata already present. Each comment names the
    // Kafka method whose work follows.

    static final boolean TRACE = Boolean.getBoolean("probe.trace"); // log.isTraceEnabled(): off

    interface Callback {
        void onCompletion(RecordMetadata metadata, Exception exception);
    }

    /** ByteArraySerializer: hands the array through (Serializer.serialize(topic, headers, data)). */
    interface Serializer {
        byte[] serialize(String topic, RecordHeaders headers, byte[] data);
    }

    static final class ByteArraySerializer implements Serializer {
        @Override
        public byte[] serialize(String topic, RecordHeaders headers, byte[] data) {
            return data;
        }
    }

    static final class RecordHeaders {
        final List<Object> headers;
        volatile boolean readOnly;

        RecordHeaders() {
            this.headers = new ArrayList<>();
        }

        void setReadOnly() {
            readOnly = true;
        }

        Object[] toArray() {
            return headers.isEmpty() ? NO_HEADERS : headers.toArray(new Object[0]);
        }
    }

    static final class ProducerRecord {
        final String topic;
        final Integer partition;
        final RecordHeaders headers;
        final byte[] key;
        final byte[] value;
        final Long timestamp;

        ProducerRecord(String topic, byte[] value) {
            this(topic, null, null, null, value);
        }

        ProducerRecord(String topic, Integer partition, Long timestamp, byte[] key, byte[] value) {
            if (topic == null) throw new IllegalArgumentException("Topic cannot be null.");
            if (timestamp != null && timestamp < 0) throw new IllegalArgumentException("negative timestamp");
            if (partition != null && partition < 0) throw new IllegalArgumentException("negative partition");
            this.topic = topic;
            this.partition = partition;
            this.key = key;
            this.value = value;
            this.timestamp = timestamp;
            this.headers = new RecordHeaders();
        }
    }

    static final class TopicPartition {
        final int partition;
        final String topic;

        TopicPartition(String topic, int partition) {
            this.partition = partition;
            this.topic = topic;
        }
    }

    static final class RecordMetadata {
        final long offset;
        final long timestamp;
        final int serializedKeySize;
        final int serializedValueSize;
        final TopicPartition topicPartition;

        RecordMetadata(TopicPartition topicPartition, long baseOffset, int batchIndex, long timestamp,
                       int serializedKeySize, int serializedValueSize) {
            this.offset = baseOffset == -1 ? baseOffset : baseOffset + batchIndex;
            this.timestamp = timestamp;
            this.serializedKeySize = serializedKeySize;
            this.serializedValueSize = serializedValueSize;
            this.topicPartition = topicPartition;
        }
    }

    static final class PartitionInfo {
        final String topic;
        final int partition;
        final int leader;

        PartitionInfo(String topic, int partition, int leader) {
            this.topic = topic;
            this.partition = partition;
            this.leader = leader;
        }
    }

    /** Cluster: the metadata snapshot -- maps by topic, built once per metadata update. */
    static final class Cluster {
        final java.util.Set<String> invalidTopics = new java.util.HashSet<>();
        final Map<String, List<PartitionInfo>> partitionsByTopic = new HashMap<>();
        final Map<String, List<PartitionInfo>> availablePartitionsByTopic = new HashMap<>();

        Cluster(String topic, int partitions) {
            List<PartitionInfo> infos = new ArrayList<>();
            for (int p = 0; p < partitions; p++) infos.add(new PartitionInfo(topic, p, p % 3));
            partitionsByTopic.put(topic, java.util.Collections.unmodifiableList(infos));
            availablePartitionsByTopic.put(topic, java.util.Collections.unmodifiableList(infos));
            invalidTopics.add("an invalid topic");
        }

        Integer partitionCountForTopic(String topic) {
            List<PartitionInfo> partitions = partitionsByTopic.get(topic);
            return partitions == null ? null : partitions.size();
        }

        List<PartitionInfo> availablePartitionsForTopic(String topic) {
            return availablePartitionsByTopic.getOrDefault(topic, java.util.Collections.emptyList());
        }
    }

    /** ProducerMetadata: fetch() reads the volatile snapshot; add() is synchronized. */
    static final class ProducerMetadata {
        volatile Cluster cache;
        final Map<String, Long> topics = new HashMap<>();
        final long metadataIdleMs = 5 * 60 * 1000L;

        ProducerMetadata(Cluster cluster) {
            this.cache = cluster;
        }

        Cluster fetch() {
            return cache;
        }

        synchronized void add(String topic, long nowMs) {
            java.util.Objects.requireNonNull(topic, "topic cannot be null");
            if (topics.put(topic, nowMs + metadataIdleMs) == null) sink++; // a new topic: request an update
        }
    }

    static final class ClusterAndWaitTime {
        final Cluster cluster;
        final long waitedOnMetadataMs;

        ClusterAndWaitTime(Cluster cluster, long waitedOnMetadataMs) {
            this.cluster = cluster;
            this.waitedOnMetadataMs = waitedOnMetadataMs;
        }
    }

    /** ProducerInterceptors with none configured: the loops run over an empty list. */
    static final class ProducerInterceptors {
        final List<Object> interceptors = new ArrayList<>();

        ProducerRecord onSend(ProducerRecord record) {
            ProducerRecord intercepted = record;
            for (Object interceptor : interceptors) sink += interceptor.hashCode();
            return intercepted;
        }

        void onAcknowledgement(RecordMetadata metadata, Exception exception) {
            for (Object interceptor : interceptors) sink += interceptor.hashCode();
        }
    }

    /** ProduceRequestResult: one per batch, the latch the record futures wait on. */
    static final class ProduceRequestResult {
        final TopicPartition topicPartition;
        CountDownLatch latch = new CountDownLatch(1); // not final only so the probe can reuse a batch
        volatile long baseOffset = -1L;
        volatile long logAppendTime = -1L;
        volatile Object errorsByIndex;

        ProduceRequestResult(TopicPartition topicPartition) {
            this.topicPartition = topicPartition;
        }

        void set(long baseOffset, long logAppendTime, Object errorsByIndex) {
            this.baseOffset = baseOffset;
            this.logAppendTime = logAppendTime;
            this.errorsByIndex = errorsByIndex;
        }

        void done() {
            if (baseOffset == -1L) throw new IllegalStateException("the method set() must be invoked before this method.");
            latch.countDown();
        }

        boolean hasLogAppendTime() {
            return logAppendTime != -1L;
        }
    }

    static final class FutureRecordMetadata {
        final ProduceRequestResult result;
        final int batchIndex;
        final long createTimestamp;
        final int serializedKeySize;
        final int serializedValueSize;
        volatile FutureRecordMetadata nextRecordMetadata = null;

        FutureRecordMetadata(ProduceRequestResult result, int batchIndex, long createTimestamp,
                             int serializedKeySize, int serializedValueSize) {
            this.result = result;
            this.batchIndex = batchIndex;
            this.createTimestamp = createTimestamp;
            this.serializedKeySize = serializedKeySize;
            this.serializedValueSize = serializedValueSize;
        }

        RecordMetadata value() {
            if (nextRecordMetadata != null) return nextRecordMetadata.value();
            return new RecordMetadata(result.topicPartition, result.baseOffset, batchIndex,
                result.hasLogAppendTime() ? result.logAppendTime : createTimestamp,
                serializedKeySize, serializedValueSize);
        }
    }

    static final class Thunk {
        final Callback callback;
        final FutureRecordMetadata future;

        Thunk(Callback callback, FutureRecordMetadata future) {
            this.callback = callback;
            this.future = future;
        }
    }

    // ---- MemoryRecordsBuilder over a ByteBufferOutputStream, as the producer writes a batch ----

    /** ByteBufferOutputStream: every write checks the room left (and would grow the buffer). */
    static final class ByteBufferOutputStream extends java.io.OutputStream {
        ByteBuffer buffer;

        ByteBufferOutputStream(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        @Override
        public void write(int b) {
            ensureRemaining(1);
            buffer.put((byte) b);
        }

        @Override
        public void write(byte[] bytes, int off, int len) {
            ensureRemaining(len);
            buffer.put(bytes, off, len);
        }

        void ensureRemaining(int remainingBytesRequired) {
            if (remainingBytesRequired > buffer.remaining()) {
                ByteBuffer grown = ByteBuffer.allocate(Math.max((int) (buffer.capacity() * 1.1f),
                    buffer.position() + remainingBytesRequired));
                buffer.flip();
                grown.put(buffer);
                buffer = grown;
            }
        }
    }

    // ByteUtils.writeVarint / writeVarlong to a DataOutput: one writeByte call per byte
    static void writeVarint(int value, java.io.DataOutput out) throws IOException {
        int v = (value << 1) ^ (value >> 31);
        while ((v & 0xffffff80) != 0) {
            out.writeByte((v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.writeByte(v);
    }

    static void writeVarlong(long value, java.io.DataOutput out) throws IOException {
        long v = (value << 1) ^ (value >> 63);
        while ((v & 0xffffffffffffff80L) != 0L) {
            out.writeByte(((int) v & 0x7f) | 0x80);
            v >>>= 7;
        }
        out.writeByte((int) v);
    }

    static ByteBuffer wrapNullable(byte[] array) {
        return array == null ? null : ByteBuffer.wrap(array);
    }

    /** DefaultRecord.sizeOfBodyInBytes. */
    static int sizeOfBodyInBytes(int offsetDelta, long timestampDelta, ByteBuffer key, ByteBuffer value, Object[] headers) {
        int keySize = key == null ? -1 : key.remaining();
        int valueSize = value == null ? -1 : value.remaining();
        int size = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
        size += keySize < 0 ? 1 : sizeOfVarint(keySize) + keySize;
        size += valueSize < 0 ? 1 : sizeOfVarint(valueSize) + valueSize;
        if (headers == null) throw new IllegalArgumentException("Headers cannot be null");
        size += sizeOfVarint(headers.length);
        return size;
    }

    /** DefaultRecord.sizeInBytes. */
    static int recordSizeInBytes(int offsetDelta, long timestampDelta, ByteBuffer key, ByteBuffer value, Object[] headers) {
        int body = sizeOfBodyInBytes(offsetDelta, timestampDelta, key, value, headers);
        return body + sizeOfVarint(body);
    }

    /** AbstractRecords.estimateSizeInBytesUpperBound for magic v2 (DefaultRecordBatch's bound). */
    static int estimateSizeInBytesUpperBound(byte[] key, byte[] value, Object[] headers) {
        ByteBuffer k = wrapNullable(key);
        ByteBuffer v = wrapNullable(value);
        int keySize = k == null ? -1 : k.remaining();
        int valueSize = v == null ? -1 : v.remaining();
        int recordUpperBound = 21 /* MAX_RECORD_OVERHEAD */ + (keySize < 0 ? 1 : sizeOfVarint(keySize) + keySize)
            + (valueSize < 0 ? 1 : sizeOfVarint(valueSize) + valueSize) + sizeOfVarint(headers.length);
        return HEADER_SIZE + recordUpperBound;
    }

    /** DefaultRecord.writeTo through the builder's DataOutputStream. */
    static int writeRecord(java.io.DataOutputStream out, int offsetDelta, long timestampDelta, ByteBuffer key,
                           ByteBuffer value, Object[] headers) throws IOException {
        int sizeInBytes = sizeOfBodyInBytes(offsetDelta, timestampDelta, key, value, headers);
        writeVarint(sizeInBytes, out);
        out.write((byte) 0); // attributes
        writeVarlong(timestampDelta, out);
        writeVarint(offsetDelta, out);
        if (key == null) {
            writeVarint(-1, out);
        } else {
            int keySize = key.remaining();
            writeVarint(keySize, out);
            out.write(key.array(), key.position() + key.arrayOffset(), keySize); // Utils.writeTo
        }
        if (value == null) {
            writeVarint(-1, out);
        } else {
            int valueSize = value.remaining();
            writeVarint(valueSize, out);
            out.write(value.array(), value.position() + value.arrayOffset(), valueSize);
        }
        writeVarint(headers.length, out);
        return sizeOfVarint(sizeInBytes) + sizeInBytes;
    }

    static final class MemoryRecordsBuilder {
        final ByteBufferOutputStream bufferStream;
        java.io.DataOutputStream appendStream;
        final int initialPosition;
        final long baseOffset = 0L;
        final int writeLimit;
        final int batchHeaderSizeInBytes = HEADER_SIZE;
        Long firstTimestamp = null;
        long lastOffset = -1L;
        long maxTimestamp = -1L;
        int numRecords = 0;
        int uncompressedRecordsSizeInBytes = 0;
        boolean closedForAppends = false;

        MemoryRecordsBuilder(ByteBuffer buffer, int writeLimit) {
            this.initialPosition = buffer.position();
            buffer.position(initialPosition + batchHeaderSizeInBytes);
            this.bufferStream = new ByteBufferOutputStream(buffer);
            this.appendStream = new java.io.DataOutputStream(bufferStream); // no compression
            this.writeLimit = writeLimit;
        }

        int estimatedBytesWritten() {
            return batchHeaderSizeInBytes + uncompressedRecordsSizeInBytes; // uncompressed
        }

        int estimatedSizeInBytes() {
            return estimatedBytesWritten();
        }

        boolean isFull() {
            return closedForAppends || (numRecords > 0 && writeLimit <= estimatedBytesWritten());
        }

        boolean hasRoomFor(long timestamp, byte[] key, byte[] value, Object[] headers) {
            if (isFull()) return false;
            if (numRecords == 0) return true;
            long nextOffset = lastOffset + 1;
            int recordSize = recordSizeInBytes((int) (nextOffset - baseOffset),
                timestamp - firstTimestamp, wrapNullable(key), wrapNullable(value), headers);
            return writeLimit >= estimatedBytesWritten() + recordSize;
        }

        void append(long timestamp, byte[] key, byte[] value, Object[] headers) throws IOException {
            appendWithOffset(lastOffset + 1, false, timestamp, wrapNullable(key), wrapNullable(value), headers);
        }

        /** MemoryRecordsBuilder.appendWithOffset -> appendDefaultRecord -> recordWritten. */
        void appendWithOffset(long offset, boolean isControlRecord, long timestamp, ByteBuffer key,
                              ByteBuffer value, Object[] headers) throws IOException {
            if (isControlRecord) throw new IllegalArgumentException("control record in a data batch");
            if (lastOffset >= 0 && offset <= lastOffset)
                throw new IllegalArgumentException("offsets must increase");
            if (timestamp < 0 && timestamp != -1L) throw new IllegalArgumentException("invalid timestamp");
            if (firstTimestamp == null) firstTimestamp = timestamp;
            if (closedForAppends) throw new IllegalStateException("closed for appends");
            int offsetDelta = (int) (offset - baseOffset);
            long timestampDelta = timestamp - firstTimestamp;
            int sizeInBytes = writeRecord(appendStream, offsetDelta, timestampDelta, key, value, headers);
            numRecords += 1;
            uncompressedRecordsSizeInBytes += sizeInBytes;
            lastOffset = offset;
            if (timestamp > maxTimestamp) maxTimestamp = timestamp;
        }

        void closeForRecordAppends() throws IOException {
            if (!closedForAppends) {
                appendStream.close();
                closedForAppends = true;
            }
        }

        /** close(): the v2 header, written when the Sender drains the batch (CRC charged per byte). */
        ByteBuffer close() throws IOException {
            closeForRecordAppends();
            ByteBuffer buffer = bufferStream.buffer;
            int size = buffer.position() - initialPosition;
            ByteBuffer batch = buffer.duplicate();
            batch.position(initialPosition);
            writeHeader(batch.slice(), baseOffset, (int) (lastOffset - baseOffset), size,
                firstTimestamp == null ? -1L : firstTimestamp, maxTimestamp, numRecords);
            return buffer;
        }
    }

    static final class ProducerBatch {
        final TopicPartition topicPartition;
        final MemoryRecordsBuilder recordsBuilder;
        final ProduceRequestResult produceFuture;
        final List<Thunk> thunks = new ArrayList<>();
        final java.util.concurrent.atomic.AtomicInteger attempts = new java.util.concurrent.atomic.AtomicInteger(0);
        final java.util.concurrent.atomic.AtomicReference<Object> finalState =
            new java.util.concurrent.atomic.AtomicReference<>(null);
        final long createdMs;
        long lastAppendTime;
        int recordCount;
        int maxRecordSize;

        ProducerBatch(TopicPartition tp, MemoryRecordsBuilder recordsBuilder, long createdMs) {
            this.topicPartition = tp;
            this.recordsBuilder = recordsBuilder;
            this.createdMs = createdMs;
            this.lastAppendTime = createdMs;
            this.produceFuture = new ProduceRequestResult(tp);
        }

        /** ProducerBatch.tryAppend. */
        FutureRecordMetadata tryAppend(long timestamp, byte[] key, byte[] value, Object[] headers, Callback callback,
                                       long now) throws IOException {
            if (!recordsBuilder.hasRoomFor(timestamp, key, value, headers)) return null;
            recordsBuilder.append(timestamp, key, value, headers);
            maxRecordSize = Math.max(maxRecordSize, estimateSizeInBytesUpperBound(key, value, headers));
            lastAppendTime = now;
            FutureRecordMetadata future = new FutureRecordMetadata(produceFuture, recordCount, timestamp,
                key == null ? -1 : key.length, value == null ? -1 : value.length);
            thunks.add(new Thunk(callback, future));
            recordCount++;
            return future;
        }

        boolean isFull() {
            return recordsBuilder.isFull();
        }

        int estimatedSizeInBytes() {
            return recordsBuilder.estimatedSizeInBytes();
        }

        /** done(baseOffset, logAppendTime, null, null): the final state, then every record's callback. */
        boolean complete(long baseOffset, long logAppendTime) {
            if (finalState.compareAndSet(null, "SUCCEEDED")) {
                completeFutureAndFireCallbacks(baseOffset, logAppendTime);
                return true;
            }
            throw new IllegalStateException("a batch completed twice");
        }

        void completeFutureAndFireCallbacks(long baseOffset, long logAppendTime) {
            produceFuture.set(baseOffset, logAppendTime, null);
            for (int i = 0; i < thunks.size(); i++) {
                try {
                    Thunk thunk = thunks.get(i);
                    if (thunk.callback != null) {
                        RecordMetadata metadata = thunk.future.value();
                        thunk.callback.onCompletion(metadata, null);
                    }
                } catch (Exception e) {
                    sink++; // Kafka logs the callback's exception and goes on
                }
            }
            produceFuture.done();
        }

        /** For the probe only: make a completed batch completable again (a new result latch). */
        void reopenForProbe() {
            finalState.set(null);
            produceFuture.latch = new CountDownLatch(1);
            produceFuture.baseOffset = -1L;
        }
    }

    /** BufferPool: a lock, a free list of batch.size buffers. */
    static final class BufferPool {
        final ReentrantLock lock = new ReentrantLock();
        final ArrayDeque<ByteBuffer> free = new ArrayDeque<>();
        final int poolableSize;
        long nonPooledAvailableMemory = 32L << 20;

        BufferPool(int poolableSize) {
            this.poolableSize = poolableSize;
        }

        ByteBuffer allocate(int size, long maxTimeToBlockMs) {
            lock.lock();
            try {
                ByteBuffer buffer = size == poolableSize ? free.pollFirst() : null;
                if (buffer == null) {
                    nonPooledAvailableMemory -= size;
                    buffer = ByteBuffer.allocate(size);
                }
                return buffer;
            } finally {
                lock.unlock();
            }
        }

        void deallocate(ByteBuffer buffer) {
            if (buffer == null) return;
            lock.lock();
            try {
                if (buffer.capacity() == poolableSize) {
                    buffer.clear();
                    free.addLast(buffer);
                } else {
                    nonPooledAvailableMemory += buffer.capacity();
                }
            } finally {
                lock.unlock();
            }
        }
    }

    static final class StickyPartitionInfo {
        final int index;
        final java.util.concurrent.atomic.AtomicInteger producedBytes = new java.util.concurrent.atomic.AtomicInteger();

        StickyPartitionInfo(int index) {
            this.index = index;
        }
    }

    /** BuiltInPartitioner: the sticky partition, switched once batch.size bytes went to it. */
    static final class BuiltInPartitioner {
        final String topic;
        final int stickyBatchSize;
        final java.util.concurrent.atomic.AtomicReference<StickyPartitionInfo> stickyPartitionInfo =
            new java.util.concurrent.atomic.AtomicReference<>();

        BuiltInPartitioner(String topic, int stickyBatchSize) {
            this.topic = topic;
            this.stickyBatchSize = stickyBatchSize;
        }

        int nextPartition(Cluster cluster) {
            int random = java.util.concurrent.ThreadLocalRandom.current().nextInt() & 0x7fffffff;
            List<PartitionInfo> available = cluster.availablePartitionsForTopic(topic);
            return available.get(random % available.size()).partition;
        }

        StickyPartitionInfo peekCurrentPartitionInfo(Cluster cluster) {
            StickyPartitionInfo info = stickyPartitionInfo.get();
            if (info != null) return info;
            info = new StickyPartitionInfo(nextPartition(cluster));
            if (stickyPartitionInfo.compareAndSet(null, info)) return info;
            return stickyPartitionInfo.get();
        }

        boolean isPartitionChanged(StickyPartitionInfo info) {
            return info != null && stickyPartitionInfo.get() != info;
        }

        void updatePartitionInfo(StickyPartitionInfo info, int appendedBytes, Cluster cluster, boolean enableSwitch) {
            if (info == null) return;
            int producedBytes = info.producedBytes.addAndGet(appendedBytes);
            if (producedBytes >= stickyBatchSize && enableSwitch || producedBytes >= stickyBatchSize * 2) {
                stickyPartitionInfo.set(new StickyPartitionInfo(nextPartition(cluster)));
            }
        }
    }

    static final class TopicInfo {
        final java.util.concurrent.ConcurrentMap<Integer, ArrayDeque<ProducerBatch>> batches =
            new java.util.concurrent.ConcurrentHashMap<>();
        final BuiltInPartitioner builtInPartitioner;

        TopicInfo(BuiltInPartitioner builtInPartitioner) {
            this.builtInPartitioner = builtInPartitioner;
        }
    }

    static final class RecordAppendResult {
        final FutureRecordMetadata future;
        final boolean batchIsFull;
        final boolean newBatchCreated;
        final boolean abortForNewBatch;
        final int appendedBytes;

        RecordAppendResult(FutureRecordMetadata future, boolean batchIsFull, boolean newBatchCreated,
                           boolean abortForNewBatch, int appendedBytes) {
            this.future = future;
            this.batchIsFull = batchIsFull;
            this.newBatchCreated = newBatchCreated;
            this.abortForNewBatch = abortForNewBatch;
            this.appendedBytes = appendedBytes;
        }
    }

    /** KafkaProducer's AppendCallbacks: the partition chosen, then on completion the user's callback. */
    static final class AppendCallbacks implements Callback {
        final Callback userCallback;
        final ProducerInterceptors interceptors;
        final String topic;
        final Integer recordPartition;
        final String recordLogString;
        volatile int partition = -1;
        volatile TopicPartition topicPartition;

        AppendCallbacks(Callback userCallback, ProducerInterceptors interceptors, ProducerRecord record) {
            this.userCallback = userCallback;
            this.interceptors = interceptors;
            this.topic = record != null ? record.topic : null;
            this.recordPartition = record != null ? record.partition : null;
            this.recordLogString = TRACE && record != null ? record.toString() : "";
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception exception) {
            if (metadata == null) metadata = new RecordMetadata(topicPartition(), -1, -1, -1L, -1, -1);
            interceptors.onAcknowledgement(metadata, exception);
            if (userCallback != null) userCallback.onCompletion(metadata, exception);
        }

        void setPartition(int partition) {
            this.partition = partition;
            if (TRACE) sink += recordLogString.length();
        }

        TopicPartition topicPartition() {
            if (topicPartition == null && topic != null) topicPartition = new TopicPartition(topic, partition);
            return topicPartition;
        }
    }

    /** RecordAccumulator.append and its helpers (uncompressed, no transactions). */
    static final class RecordAccumulator {
        final java.util.concurrent.ConcurrentMap<String, TopicInfo> topicInfoMap =
            new java.util.concurrent.ConcurrentHashMap<>();
        final java.util.concurrent.atomic.AtomicInteger appendsInProgress = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.Set<ProducerBatch> incomplete = new java.util.HashSet<>(); // IncompleteBatches
        final BufferPool free;
        final int batchSize;
        volatile boolean closed;

        RecordAccumulator(int batchSize) {
            this.batchSize = batchSize;
            this.free = new BufferPool(batchSize);
        }

        RecordAppendResult append(String topic, int partition, long timestamp, byte[] key, byte[] value,
                                  Object[] headers, AppendCallbacks callbacks, long maxTimeToBlock,
                                  boolean abortOnNewBatch, long nowMs, Cluster cluster) throws IOException {
            TopicInfo topicInfo = topicInfoMap.computeIfAbsent(topic,
                k -> new TopicInfo(new BuiltInPartitioner(k, batchSize)));
            appendsInProgress.incrementAndGet();
            ByteBuffer buffer = null;
            if (headers == null) headers = NO_HEADERS;
            try {
                while (true) {
                    final StickyPartitionInfo partitionInfo;
                    final int effectivePartition;
                    if (partition == -1) {
                        partitionInfo = topicInfo.builtInPartitioner.peekCurrentPartitionInfo(cluster);
                        effectivePartition = partitionInfo.index;
                    } else {
                        partitionInfo = null;
                        effectivePartition = partition;
                    }
                    if (callbacks != null) callbacks.setPartition(effectivePartition);
                    ArrayDeque<ProducerBatch> dq = topicInfo.batches.computeIfAbsent(effectivePartition,
                        k -> new ArrayDeque<>());
                    synchronized (dq) {
                        if (partitionChanged(topicInfo, partitionInfo, dq, cluster)) continue;
                        RecordAppendResult appendResult = tryAppend(timestamp, key, value, headers, callbacks, dq, nowMs);
                        if (appendResult != null) {
                            boolean enableSwitch = allBatchesFull(dq);
                            topicInfo.builtInPartitioner.updatePartitionInfo(partitionInfo,
                                appendResult.appendedBytes, cluster, enableSwitch);
                            return appendResult;
                        }
                    }
                    if (abortOnNewBatch) return new RecordAppendResult(null, false, false, true, 0);
                    if (buffer == null) {
                        int size = Math.max(batchSize, estimateSizeInBytesUpperBound(key, value, headers));
                        buffer = free.allocate(size, maxTimeToBlock);
                        nowMs = System.currentTimeMillis();
                    }
                    synchronized (dq) {
                        if (partitionChanged(topicInfo, partitionInfo, dq, cluster)) continue;
                        RecordAppendResult appendResult = appendNewBatch(topic, effectivePartition, dq, timestamp,
                            key, value, headers, callbacks, buffer, nowMs);
                        if (appendResult.newBatchCreated) buffer = null;
                        boolean enableSwitch = allBatchesFull(dq);
                        topicInfo.builtInPartitioner.updatePartitionInfo(partitionInfo,
                            appendResult.appendedBytes, cluster, enableSwitch);
                        return appendResult;
                    }
                }
            } finally {
                free.deallocate(buffer);
                appendsInProgress.decrementAndGet();
            }
        }

        boolean partitionChanged(TopicInfo topicInfo, StickyPartitionInfo partitionInfo,
                                 ArrayDeque<ProducerBatch> deque, Cluster cluster) {
            if (topicInfo.builtInPartitioner.isPartitionChanged(partitionInfo)) return true;
            if (allBatchesFull(deque)) {
                topicInfo.builtInPartitioner.updatePartitionInfo(partitionInfo, 0, cluster, true);
                return topicInfo.builtInPartitioner.isPartitionChanged(partitionInfo);
            }
            return false;
        }

        RecordAppendResult appendNewBatch(String topic, int partition, ArrayDeque<ProducerBatch> dq, long timestamp,
                                          byte[] key, byte[] value, Object[] headers, Callback callbacks,
                                          ByteBuffer buffer, long nowMs) throws IOException {
            RecordAppendResult appendResult = tryAppend(timestamp, key, value, headers, callbacks, dq, nowMs);
            if (appendResult != null) return appendResult;
            MemoryRecordsBuilder recordsBuilder = new MemoryRecordsBuilder(buffer, batchSize);
            ProducerBatch batch = new ProducerBatch(new TopicPartition(topic, partition), recordsBuilder, nowMs);
            FutureRecordMetadata future = batch.tryAppend(timestamp, key, value, headers, callbacks, nowMs);
            dq.addLast(batch);
            synchronized (incomplete) {
                incomplete.add(batch);
            }
            return new RecordAppendResult(future, dq.size() > 1 || batch.isFull(), true, false,
                batch.estimatedSizeInBytes());
        }

        static boolean allBatchesFull(ArrayDeque<ProducerBatch> deque) {
            ProducerBatch last = deque.peekLast();
            return last == null || last.isFull();
        }

        RecordAppendResult tryAppend(long timestamp, byte[] key, byte[] value, Object[] headers, Callback callback,
                                     ArrayDeque<ProducerBatch> deque, long nowMs) throws IOException {
            if (closed) throw new IllegalStateException("Producer closed while send in progress");
            ProducerBatch last = deque.peekLast();
            if (last != null) {
                int initialBytes = last.estimatedSizeInBytes();
                FutureRecordMetadata future = last.tryAppend(timestamp, key, value, headers, callback, nowMs);
                if (future == null) {
                    last.recordsBuilder.closeForRecordAppends();
                } else {
                    int appendedBytes = last.estimatedSizeInBytes() - initialBytes;
                    return new RecordAppendResult(future, deque.size() > 1 || last.isFull(), false, false, appendedBytes);
                }
            }
            return null;
        }

        /**
         * Not send()'s work: the probe's stand-in for the Sender taking the full batches away
         * (under the deque's lock) and returning their buffers, so the pool recycles them.
         */
        void drainFullBatches(String topic) throws IOException {
            for (ArrayDeque<ProducerBatch> dq : topicInfoMap.get(topic).batches.values()) {
                while (true) {
                    ProducerBatch drained;
                    synchronized (dq) {
                        if (dq.size() <= 1) break;
                        drained = dq.pollFirst();
                    }
                    synchronized (incomplete) {
                        incomplete.remove(drained);
                    }
                    free.deallocate(drained.recordsBuilder.bufferStream.buffer);
                }
            }
        }
    }

    /** KafkaProducer.send / doSend, for a producer whose metadata is present. */
    static final class KafkaProducer {
        final ProducerInterceptors interceptors = new ProducerInterceptors();
        final Serializer keySerializer = new ByteArraySerializer();
        final Serializer valueSerializer = new ByteArraySerializer();
        final ProducerMetadata metadata;
        final RecordAccumulator accumulator;
        final java.nio.channels.Selector selector; // Sender.wakeup -> Selector.wakeup
        final int maxRequestSize = 1 << 20;
        final long totalMemorySize = 32L << 20;
        final long maxBlockTimeMs = 60_000L;
        volatile boolean senderRunning = true;

        KafkaProducer(String topic, int partitions, int batchSize) throws IOException {
            this.metadata = new ProducerMetadata(new Cluster(topic, partitions));
            this.accumulator = new RecordAccumulator(batchSize);
            this.selector = java.nio.channels.Selector.open();
        }

        FutureRecordMetadata send(ProducerRecord record, Callback callback) throws IOException {
            ProducerRecord interceptedRecord = interceptors.onSend(record);
            return doSend(interceptedRecord, callback);
        }

        FutureRecordMetadata doSend(ProducerRecord record, Callback callback) throws IOException {
            AppendCallbacks appendCallbacks = new AppendCallbacks(callback, interceptors, record);
            if (!senderRunning) throw new IllegalStateException("Cannot perform operation after producer has been closed");
            long nowMs = System.currentTimeMillis();
            ClusterAndWaitTime clusterAndWaitTime = waitOnMetadata(record.topic, record.partition, nowMs);
            nowMs += clusterAndWaitTime.waitedOnMetadataMs;
            long remainingWaitMs = Math.max(0, maxBlockTimeMs - clusterAndWaitTime.waitedOnMetadataMs);
            Cluster cluster = clusterAndWaitTime.cluster;
            byte[] serializedKey = keySerializer.serialize(record.topic, record.headers, record.key);
            byte[] serializedValue = valueSerializer.serialize(record.topic, record.headers, record.value);
            int partition = partition(record, serializedKey, cluster);
            record.headers.setReadOnly();
            Object[] headers = record.headers.toArray();
            int serializedSize = estimateSizeInBytesUpperBound(serializedKey, serializedValue, headers);
            ensureValidRecordSize(serializedSize);
            long timestamp = record.timestamp == null ? nowMs : record.timestamp;
            RecordAppendResult result = accumulator.append(record.topic, partition, timestamp, serializedKey,
                serializedValue, headers, appendCallbacks, remainingWaitMs, false, nowMs, cluster);
            if (result.batchIsFull || result.newBatchCreated) selector.wakeup(); // sender.wakeup()
            return result.future;
        }

        ClusterAndWaitTime waitOnMetadata(String topic, Integer partition, long nowMs) {
            Cluster cluster = metadata.fetch();
            if (cluster.invalidTopics.contains(topic)) throw new IllegalArgumentException("invalid topic " + topic);
            metadata.add(topic, nowMs);
            Integer partitionsCount = cluster.partitionCountForTopic(topic);
            if (partitionsCount != null && (partition == null || partition < partitionsCount))
                return new ClusterAndWaitTime(cluster, 0);
            throw new IllegalStateException("the probe's metadata is always present");
        }

        int partition(ProducerRecord record, byte[] serializedKey, Cluster cluster) {
            if (record.partition != null) return record.partition;
            if (serializedKey != null) throw new IllegalStateException("the probe sends null keys");
            return -1; // RecordMetadata.UNKNOWN_PARTITION: the accumulator's built-in partitioner picks
        }

        void ensureValidRecordSize(int size) {
            if (size > maxRequestSize) throw new IllegalArgumentException("record larger than max.request.size");
            if (size > totalMemorySize) throw new IllegalArgumentException("record larger than buffer.memory");
        }
    }

    /** ProducerPerformance's Stats.record: the counters every acknowledged record updates. */
    static final class Stats {
        final int[] latencies = new int[500_001];
        final long sampling = 1;
        final long reportingInterval = 5000;
        long iteration;
        int index;
        long count;
        long bytes;
        int maxLatency;
        long totalLatency;
        long windowCount;
        int windowMaxLatency;
        long windowTotalLatency;
        long windowBytes;
        long windowStart = System.currentTimeMillis();

        void record(int latency, int bytes, long time) {
            this.count++;
            this.bytes += bytes;
            this.totalLatency += latency;
            this.maxLatency = Math.max(this.maxLatency, latency);
            this.windowCount++;
            this.windowBytes += bytes;
            this.windowTotalLatency += latency;
            this.windowMaxLatency = Math.max(windowMaxLatency, latency);
            if (this.iteration % this.sampling == 0) {
                this.latencies[index] = latency;
                this.index = (this.index + 1) % latencies.length; // the tool sizes it to the run
            }
            if (time - windowStart >= reportingInterval) {
                sink += windowCount; // printWindow
                windowStart = time;
                windowCount = 0;
                windowMaxLatency = 0;
                windowTotalLatency = 0;
                windowBytes = 0;
            }
            this.iteration++;
        }
    }

    /** ProducerPerformance's PerfCallback: one per record sent, run on the Sender thread. */
    static final class PerfCallback implements Callback {
        final long start;
        final int bytes;
        final Stats stats;

        PerfCallback(long start, int bytes, Stats stats) {
            this.start = start;
            this.bytes = bytes;
            this.stats = stats;
        }

        @Override
        public void onCompletion(RecordMetadata metadata, Exception exception) {
            long now = System.currentTimeMillis();
            int latency = (int) (now - start);
            stats.record(latency, bytes, now);
            if (exception != null) sink++;
        }
    }

    static final String TOPIC = "probe";
    static final int TOPIC_PARTITIONS = 6;

    /**
     * What the application thread does per record in kafka-producer-perf-test: a new
     * ProducerRecord and PerfCallback, then send(). The payload refill the tool does is the
     * tool's own work and left out. When a batch fills, the full one is drained as the Sender
     * would (not send()'s work; a few pointer moves and a pool return per batch). send() calls
     * Selector.wakeup whenever Kafka's does; the probe's Sender polls once per round, so the
     * first wakeup of a round writes to the selector's pipe and the rest find it already
     * woken -- as when a busy Sender is not waiting in poll (a waiting one costs a pipe write
     * per new batch: producer_wakeup, timed apart).
     */
    static long sendRecords(KafkaProducer producer, Stats stats, byte[] value, int n) throws IOException {
        long acc = 0;
        for (int i = 0; i < n; i++) {
            ProducerRecord record = new ProducerRecord(TOPIC, value);
            long sendStartMs = System.currentTimeMillis();
            Callback cb = new PerfCallback(sendStartMs, value.length, stats);
            FutureRecordMetadata future = producer.send(record, cb);
            acc += future.batchIndex;
            if (future.batchIndex == 0) producer.accumulator.drainFullBatches(TOPIC);
        }
        producer.selector.selectNow(); // the Sender's poll: the next wakeup writes to the pipe again
        return acc;
    }

    /** The bare inner loop: hasRoomFor + appendWithOffset into one reused batch buffer. */
    static long appendOnly(ByteBuffer buffer, byte[] value, long now, int n, MemoryRecordsBuilder[] builder)
            throws IOException {
        long acc = 0;
        for (int i = 0; i < n; i++) {
            MemoryRecordsBuilder b = builder[0];
            if (!b.hasRoomFor(now, null, value, NO_HEADERS)) {
                buffer.clear();
                b = builder[0] = new MemoryRecordsBuilder(buffer, BATCH_SIZE);
            }
            b.append(now, null, value, NO_HEADERS);
            acc += b.numRecords;
        }
        return acc;
    }

    /** A full batch of `value`-sized records sent through the producer, each with a PerfCallback. */
    static ProducerBatch filledBatch(byte[] value, Stats stats) throws IOException {
        KafkaProducer producer = new KafkaProducer(TOPIC, 1, BATCH_SIZE);
        ProducerBatch batch = null;
        while (true) {
            producer.send(new ProducerRecord(TOPIC, value), new PerfCallback(System.currentTimeMillis(), value.length, stats));
            ArrayDeque<ProducerBatch> dq = producer.accumulator.topicInfoMap.get(TOPIC).batches.get(0);
            if (dq.size() > 1) {
                batch = dq.pollFirst();
                break;
            }
        }
        producer.selector.close();
        return batch;
    }

    static final TopicPartition PROBE_PARTITION = new TopicPartition(TOPIC, 0);

    /**
     * Before each timed round of the Sender's batch work: `n` batches of one record each,
     * made as send() makes them (that work is in producer_record) and queued in the deque.
     */
    static long queueBatches(BufferPool pool, ArrayDeque<ProducerBatch> deque, byte[] value, long now, int n)
            throws IOException {
        for (int i = 0; i < n; i++) {
            ProducerBatch batch = new ProducerBatch(PROBE_PARTITION,
                new MemoryRecordsBuilder(pool.allocate(BATCH_SIZE, 0L), BATCH_SIZE), now);
            batch.tryAppend(now, null, value, NO_HEADERS, null, now);
            synchronized (deque) {
                deque.addLast(batch);
            }
        }
        return n;
    }

    /** The Sender's per-batch work, CRC32C left out (it is charged per byte). */
    static long drainBatch(BufferPool pool, ArrayDeque<ProducerBatch> deque) throws IOException {
        ProducerBatch drained;
        synchronized (deque) {
            drained = deque.pollFirst();
        }
        ByteBuffer built = drained.recordsBuilder.close(); // MemoryRecordsBuilder.close: the v2 header
        drained.produceFuture.set(0L, -1L, null); // ProduceRequestResult.set and done
        drained.produceFuture.done();
        long result = built.position() + drained.thunks.size();
        pool.deallocate(built);
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

    /**
     * Nanoseconds per unit like {@link #time}, with `setup.run(n)` done untimed before every
     * round (the work a round consumes, made by another thread in Kafka).
     */
    static double timeWithSetup(Work setup, Work work, int unitsPerRound, double warmupSeconds, int trials)
            throws Exception {
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        long acc = 0;
        while (System.nanoTime() < warmupEnd) {
            acc += setup.run(unitsPerRound);
            acc += work.run(unitsPerRound);
        }
        double[] perUnit = new double[trials];
        for (int t = 0; t < trials; t++) {
            acc += setup.run(unitsPerRound);
            long start = System.nanoTime();
            acc += work.run(unitsPerRound);
            perUnit[t] = (System.nanoTime() - start) / (double) unitsPerRound;
        }
        sink += acc;
        Arrays.sort(perUnit);
        return perUnit[0];
    }

    /** Milliseconds the JVM's collectors have spent so far (their pauses, for young collections). */
    static long collectionMillis() {
        long total = 0;
        for (java.lang.management.GarbageCollectorMXBean gc
                : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
            total += Math.max(0, gc.getCollectionTime());
        }
        return total;
    }

    /**
     * Nanoseconds per unit for paths that allocate per record, whose garbage is part of their
     * cost: the fastest of `trials` rounds (as {@link #time}; on a shared machine the fastest
     * is one that neither another process nor a collection interrupted) plus the collectors'
     * time over all the rounds divided by all their units -- the collection share each
     * record's garbage costs, which the fastest round leaves out. The second figure of the
     * result is that share alone.
     */
    static double[] timeWithCollections(Work work, int unitsPerRound, double warmupSeconds, int trials)
            throws Exception {
        long warmupEnd = System.nanoTime() + (long) (warmupSeconds * 1e9);
        long acc = 0;
        while (System.nanoTime() < warmupEnd) acc += work.run(unitsPerRound);
        double fastest = Double.MAX_VALUE;
        long collectedBefore = collectionMillis();
        for (int t = 0; t < trials; t++) {
            long start = System.nanoTime();
            acc += work.run(unitsPerRound);
            fastest = Math.min(fastest, (System.nanoTime() - start) / (double) unitsPerRound);
        }
        double collectionPerUnit = (collectionMillis() - collectedBefore) * 1e6 / ((double) trials * unitsPerRound);
        sink += acc;
        return new double[] {fastest + collectionPerUnit, collectionPerUnit};
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

    /** send() per record for `value`-sized records, into a 6-partition topic. */
    static double[] sendCost(byte[] value, double warmup, int trials) throws Exception {
        KafkaProducer producer = new KafkaProducer(TOPIC, TOPIC_PARTITIONS, BATCH_SIZE);
        Stats stats = new Stats();
        try {
            return timeWithCollections(n -> sendRecords(producer, stats, value, n), 5_000, warmup, trials);
        } finally {
            producer.selector.close();
        }
    }

    /** How many `value`-sized records a batch.size batch holds. */
    static int recordsPerBatch(byte[] value) throws IOException {
        MemoryRecordsBuilder builder = new MemoryRecordsBuilder(ByteBuffer.allocate(BATCH_SIZE), BATCH_SIZE);
        long now = System.currentTimeMillis();
        while (builder.hasRoomFor(now, null, value, NO_HEADERS)) builder.append(now, null, value, NO_HEADERS);
        return builder.numRecords;
    }

    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("quick");
        Path scratch = Files.createTempDirectory(Paths.get(args.length > 1 ? args[1] : System.getProperty("java.io.tmpdir")),
            "simkafka-probe-");
        double warmup = quick ? 0.3 : 0.8;
        int trials = quick ? 9 : 81;
        byte[] value = payload(VALUE_SIZE, 42);
        long now = System.currentTimeMillis();

        // send(), as kafka-producer-perf-test calls it, at 100-byte and 1 KiB values
        int sendTrials = quick ? 40 : 240;
        byte[] value1k = payload(1024, 43);
        // the whole send path is a large method tree: the JIT needs longer than the small loops
        double sendWarmup = quick ? 1.5 : 1.5;
        double[] producerRecord = sendCost(value, sendWarmup, sendTrials);
        double[] producerRecord1k = sendCost(value1k, sendWarmup, sendTrials);

        // the bare inner loop, for comparison: hasRoomFor + appendWithOffset only
        ByteBuffer appendBuffer = ByteBuffer.allocate(BATCH_SIZE);
        MemoryRecordsBuilder[] builder = {new MemoryRecordsBuilder(appendBuffer, BATCH_SIZE)};
        double producerAppend = time(n -> appendOnly(appendBuffer, value, now, n, builder), 20_000, warmup, trials);
        double producerAppend1k = time(n -> appendOnly(appendBuffer, value1k, now, n, builder), 5_000, warmup, trials);

        // the Sender completing an acknowledged batch of 100-byte records, a PerfCallback each
        Stats ackStats = new Stats();
        ProducerBatch acked = filledBatch(value, ackStats);
        int ackedRecords = acked.recordCount;
        double[] producerAckRecord = timeWithCollections(n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) {
                acked.reopenForProbe();
                acked.complete(1000L * i, -1L);
                acc += acked.produceFuture.baseOffset;
            }
            return acc + ackStats.count;
        }, 30, warmup, sendTrials);

        // Selector.wakeup when the Sender is waiting in poll: the pipe write (and the poll's
        // reading it back), less the poll alone
        java.nio.channels.Selector selector = java.nio.channels.Selector.open();
        double wakeupAndPoll = time(n -> {
            for (int i = 0; i < n; i++) {
                selector.wakeup();
                selector.selectNow();
            }
            return n;
        }, 500, warmup, trials);
        double pollAlone = time(n -> {
            for (int i = 0; i < n; i++) selector.selectNow();
            return n;
        }, 500, warmup, trials);
        selector.close();
        double producerWakeup = Math.max(wakeupAndPoll - pollAlone, 1.0);

        BufferPool pool = new BufferPool(BATCH_SIZE);
        ArrayDeque<ProducerBatch> deque = new ArrayDeque<>();
        double producerBatch = timeWithSetup(n -> queueBatches(pool, deque, value, now, n), n -> {
            long acc = 0;
            for (int i = 0; i < n; i++) acc += drainBatch(pool, deque);
            return acc;
        }, 2_000, warmup, trials);

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
            + "\"producer_record_ns\": " + producerRecord[0] + ", "
            + "\"producer_record_gc_ns\": " + producerRecord[1] + ", "
            + "\"producer_record_1k_ns\": " + producerRecord1k[0] + ", "
            + "\"producer_record_1k_gc_ns\": " + producerRecord1k[1] + ", "
            + "\"producer_append_ns\": " + producerAppend + ", "
            + "\"producer_append_1k_ns\": " + producerAppend1k + ", "
            + "\"producer_ack_record_ns\": " + producerAckRecord[0] / ackedRecords + ", "
            + "\"producer_ack_record_gc_ns\": " + producerAckRecord[1] / ackedRecords + ", "
            + "\"producer_ack_batch_records\": " + ackedRecords + ", "
            + "\"producer_wakeup_ns\": " + producerWakeup + ", "
            + "\"producer_records_per_batch\": " + recordsPerBatch(value) + ", "
            + "\"producer_records_per_batch_1k\": " + recordsPerBatch(value1k) + ", "
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
