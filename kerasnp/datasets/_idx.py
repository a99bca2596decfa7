"""A NumPy reader for gzipped IDX files of unsigned bytes (the MNIST / Fashion-MNIST format).

Layout: a 4-byte magic number `00 00 08 <ndim>` (0x08 = unsigned byte data), then `ndim` big-endian
uint32 dimensions, then the `prod(dims)` data bytes in C order, and nothing after them.
"""
import gzip
import zlib

import numpy as np

_UBYTE = 0x08
_MAX_BYTES = 1 << 30  # a header claiming more than 1 GiB of data is malformed, not a dataset


def _read_into(f, n):
    """Read up to `n` bytes into a new writable uint8 array; return (array, bytes read)."""
    out = np.empty(n, np.uint8)
    view, got = memoryview(out), 0
    while got < n:
        k = f.readinto(view[got:])
        if not k:
            break
        got += k
    return out, got


def read_idx(path, ndim, item_shape=()):
    """Read a gzipped IDX file of unsigned bytes with `ndim` dimensions as a uint8 array.

    Args:
        path: the `.gz` file.
        ndim: the number of dimensions the file must declare (1 for labels, 3 for images).
        item_shape: the dimensions after the first that the file must declare, e.g. `(28, 28)`.

    Raises:
        ValueError: naming the file, for a bad gzip stream, a wrong magic number, unexpected
            dimensions, a truncated payload or trailing bytes.
    """
    def bad(problem):
        return ValueError(f"'{path}' is not a valid gzipped IDX file: {problem}. Delete it and "
                          f"download it again.")

    try:
        with gzip.open(path, "rb") as f:
            magic = f.read(4)
            want = bytes([0, 0, _UBYTE, ndim])
            if magic != want:
                raise bad(f"expected the magic number 0x{want.hex()} (unsigned bytes, {ndim} "
                          f"dimension(s)), received 0x{magic.hex() or '(empty)'}")
            head = f.read(4 * ndim)
            if len(head) != 4 * ndim:
                raise bad(f"the header ends after {len(head)} of {4 * ndim} dimension bytes")
            dims = tuple(int(d) for d in np.frombuffer(head, dtype=">u4"))
            if dims[1:] != tuple(item_shape):
                raise bad(f"expected dimensions (n, {', '.join(map(str, item_shape))}), received "
                          f"{dims}" if item_shape else f"received dimensions {dims}")
            size = int(np.prod(dims, dtype=np.int64))
            if size > _MAX_BYTES:
                raise bad(f"the header declares {dims}, {size} bytes of data")
            data, got = _read_into(f, size)
            if got != size:
                raise bad(f"dimensions {dims} need {size} data bytes, the file holds {got}")
            if f.read(1):
                raise bad(f"unexpected bytes after the {size} data bytes of dimensions {dims}")
    except (OSError, EOFError, zlib.error) as e:  # BadGzipFile is an OSError
        raise bad(f"the gzip stream cannot be read ({type(e).__name__}: {e})") from e
    return data.reshape(dims)
