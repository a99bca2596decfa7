"""The other hashes of Keras's (TensorFlow's) hashing layers, in pure Python (modulo 2⁶⁴):

- `siphash24(key0, key1, data)`: SipHash-2-4 with the 128-bit key `(key0, key1)`, TensorFlow's
  `to_hash_bucket_strong` (the `Hashing` layer with a `salt`);
- `fingerprint_cat64(a, b)`: TensorFlow's FingerprintCat64, which chains the feature hashes of a
  feature cross (`HashedCrossing`, `tf.sparse.cross_hashed`).

Only `Hashing`/`HashedCrossing` inputs are hashed here, one Python call per element.
"""
_M = (1 << 64) - 1
_CAT_MUL = 0xc6a4a7935bd1e995
CROSS_HASH_KEY = 0xDECAFCAFFE          # tf.sparse.cross_hashed's default hash_key


def _rotl(v, b):
    return ((v << b) | (v >> (64 - b))) & _M


def _rounds(v0, v1, v2, v3, n):
    for _ in range(n):
        v0 = (v0 + v1) & _M
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _M
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _M
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _M
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(key0, key1, data):
    """SipHash-2-4 of `data` (bytes) under the key `(key0, key1)` (two unsigned 64-bit ints)."""
    v0 = key0 ^ 0x736f6d6570736575
    v1 = key1 ^ 0x646f72616e646f6d
    v2 = key0 ^ 0x6c7967656e657261
    v3 = key1 ^ 0x7465646279746573
    n = len(data)
    end = n - n % 8
    for i in range(0, end, 8):
        m = int.from_bytes(data[i:i + 8], "little")
        v3 ^= m
        v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
        v0 ^= m
    last = ((n & 0xFF) << 56) | int.from_bytes(data[end:], "little")
    v3 ^= last
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 2)
    v0 ^= last
    v2 ^= 0xFF
    v0, v1, v2, v3 = _rounds(v0, v1, v2, v3, 4)
    return v0 ^ v1 ^ v2 ^ v3


def _shift_mix(v):
    return v ^ (v >> 47)


def fingerprint_cat64(fp1, fp2):
    """Combine two 64-bit fingerprints into one (order matters)."""
    result = fp1 ^ _CAT_MUL
    result ^= (_shift_mix((fp2 * _CAT_MUL) & _M) * _CAT_MUL) & _M
    result = (result * _CAT_MUL) & _M
    result = (_shift_mix(result) * _CAT_MUL) & _M
    return _shift_mix(result)
