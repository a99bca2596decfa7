"""TensorBoard event files without TensorFlow: CRC32C, TFRecord framing and hand-encoded protobufs.

An event file is a sequence of TFRecords; each record is

    uint64 length | uint32 masked_crc32c(length) | data | uint32 masked_crc32c(data)

(little-endian), and each `data` is a serialized `tensorflow.Event` protobuf. The first event
carries `file_version = "brain.Event:2"`; the others a `Summary` of scalars (`simple_value`) or
histograms (`HistogramProto`), which TensorBoard reads as its scalars and histograms plugins do.
Only the few protobuf fields written here are encoded, by hand (field numbers from TensorFlow's
event.proto, summary.proto and histogram.proto).
"""
import os
import socket
import struct
import time

import numpy as np


# -- CRC32C (Castagnoli, reflected polynomial 0x82F63B78) --------------------------------------
def _crc_table():
    crc = np.arange(256, dtype=np.uint32)
    for _ in range(8):                     # all 256 entries at once, one bit per round
        crc = np.where(crc & 1, (crc >> 1) ^ np.uint32(0x82F63B78), crc >> 1).astype(np.uint32)
    return [int(c) for c in crc]


_TABLE = _crc_table()


def crc32c(data):
    """CRC-32C of `data` (bytes): `crc32c(b"123456789") == 0xE3069283`."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    """The CRC as TFRecord stores it: rotated right by 15 bits plus a constant, so a CRC of
    data that itself holds CRCs does not degenerate."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def tfrecord(data):
    """One TFRecord frame around `data`."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc32c(length)) + data
            + struct.pack("<I", masked_crc32c(data)))


# -- protobuf wire format ----------------------------------------------------------------------
def _varint(n):
    out = bytearray()
    n &= (1 << 64) - 1                     # negative int64 as protobuf writes it
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field, wire):
    return _varint(field << 3 | wire)


def _bytes_field(field, payload):
    return _key(field, 2) + _varint(len(payload)) + payload


def _double_field(field, value):
    return _key(field, 1) + struct.pack("<d", value)


def _packed_doubles(field, values):
    return _bytes_field(field, np.asarray(values, "<f8").tobytes())


def event(wall_time, step=0, file_version=None, summary=None):
    """A serialized `Event`: wall_time (1, double), step (2, int64), file_version (3, string),
    summary (5, Summary)."""
    out = _double_field(1, wall_time)
    if step:
        out += _key(2, 0) + _varint(int(step))
    if file_version is not None:
        out += _bytes_field(3, file_version.encode("utf-8"))
    if summary is not None:
        out += _bytes_field(5, summary)
    return out


def scalar_value(tag, value):
    """A `Summary.Value` with tag (1) and simple_value (2, float32)."""
    return _bytes_field(1, tag.encode("utf-8")) + _key(2, 5) + struct.pack("<f", float(value))


def histogram_value(tag, array, buckets=30):
    """A `Summary.Value` with tag (1) and histo (5, HistogramProto: min 1, max 2, num 3, sum 4,
    sum_squares 5, bucket_limit 6, bucket 7); `buckets` equal-width bins (TensorFlow's count)."""
    a = np.asarray(array, dtype=np.float64).ravel()
    a = a[np.isfinite(a)]
    if a.size == 0:
        lo = hi = 0.0
        limits, counts = [0.0], [0.0]
    else:
        lo, hi = float(a.min()), float(a.max())
        if lo == hi:                        # one value: one bucket ending at it
            limits, counts = [hi], [float(a.size)]
        else:
            counts, edges = np.histogram(a, bins=buckets, range=(lo, hi))
            limits, counts = edges[1:], counts.astype(np.float64)
    histo = (_double_field(1, lo) + _double_field(2, hi) + _double_field(3, float(a.size))
             + _double_field(4, float(a.sum())) + _double_field(5, float((a * a).sum()))
             + _packed_doubles(6, limits) + _packed_doubles(7, counts))
    return _bytes_field(1, tag.encode("utf-8")) + _bytes_field(5, histo)


def summary(values):
    """A `Summary` of `Summary.Value`s (field 1, repeated)."""
    return b"".join(_bytes_field(1, v) for v in values)


# -- the writer --------------------------------------------------------------------------------
_COUNTER = [0]


class EventFileWriter:
    """Appends events to a new `events.out.tfevents.<time>.<host>.<pid>.<n>.v2` file in
    `folder` (created if needed), starting with the file-version event."""

    def __init__(self, folder):
        os.makedirs(folder, exist_ok=True)
        _COUNTER[0] += 1
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{_COUNTER[0]}.v2")
        self.path = os.path.join(folder, name)
        self._file = open(self.path, "wb")
        self._write(event(time.time(), file_version="brain.Event:2"))
        self.flush()

    def _write(self, data):
        self._file.write(tfrecord(data))

    def scalars(self, step, values):
        """Write `{tag: number}` as one event at `step`."""
        if values:
            self._write(event(time.time(), step,
                              summary=summary([scalar_value(t, v) for t, v in values.items()])))

    def histograms(self, step, arrays):
        """Write `{tag: array}` as one event of histograms at `step`."""
        if arrays:
            self._write(event(time.time(), step,
                              summary=summary([histogram_value(t, a)
                                               for t, a in arrays.items()])))

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()
