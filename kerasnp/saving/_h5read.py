"""Reading Keras's HDF5 weights (`model.weights.h5`, `.weights.h5`) without trusting them.

HDF5 is parsed by the HDF5 C library (through h5py), so a `.keras` file is not as safe to open as
a `.kerasnp` file; what kerasnp controls, it checks. Only the groups and datasets the model needs
are looked up, by exact path; every link on the way must be a hard link (an external link would
open another file, a soft link another object); a dataset must not be virtual nor keep its data
in external files (both read other files on disk); its dtype, shape and chunk size are checked
against the weight it is meant for before a single element is read, and it is read straight into
an array of the expected shape. A zip member is read through a window onto the archive (stored
members) or a spooled copy (deflated ones), after its CRC was verified, never whole into memory.
"""
import contextlib
import os
import struct
import tempfile
import zipfile

import numpy as np

from . import checks
from .checks import fail

MAX_GROUP_ITEMS = 100_000        # entries of one HDF5 group that kerasnp lists
MAX_CHUNK_BYTES = 2**24          # a chunk larger than this and than its dataset is refused
_SPOOL = 2**26                   # a deflated member is copied to a temp file beyond this size
_COPY = 2**20                    # bytes per read when verifying or copying a member


def h5py_module(source):
    try:
        import h5py
    except ImportError:
        fail(source, "reading Keras's HDF5 weights needs h5py (pip install h5py).")
    return h5py


class _Window:
    """A read-only file object over bytes [start, start + size) of an open file."""

    def __init__(self, fp, start, size):
        self.fp, self.start, self.size, self.pos = fp, start, size, 0

    def seekable(self):
        return True

    def readable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        base = (0, self.pos, self.size)[whence]
        self.pos = min(max(base + offset, 0), self.size)
        return self.pos

    def read(self, n=-1):
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        self.fp.seek(self.start + self.pos)
        data = self.fp.read(n)
        self.pos += len(data)
        return data

    def readinto(self, buf):
        data = self.read(len(buf))
        buf[:len(data)] = data
        return len(data)


@contextlib.contextmanager
def member_file(source, zf, info):
    """A seekable file object holding the zip member `info` (its CRC verified first)."""
    name = info.filename
    try:
        with zf.open(info) as fp:                 # one pass: zipfile checks size and CRC
            if info.compress_type == zipfile.ZIP_STORED:
                total = 0
                while True:
                    chunk = fp.read(_COPY)
                    if not chunk:
                        break
                    total += len(chunk)
                copy = None
            else:
                copy = tempfile.SpooledTemporaryFile(max_size=_SPOOL)
                total = _copy_bounded(fp, copy, info.file_size)
    except Exception as err:
        fail(source, f"the member cannot be read ({type(err).__name__}: {err}); the file is "
                     "damaged.", name)
    if total != info.file_size:
        fail(source, f"expected {info.file_size} bytes, read {total}; the file is damaged.", name)
    if copy is not None:
        copy.seek(0)
        with copy:
            yield copy
        return
    with open(zf.filename, "rb") as raw:
        raw.seek(info.header_offset)
        head = raw.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            fail(source, "bad local header; the file is damaged.", name)
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        yield _Window(raw, info.header_offset + 30 + name_len + extra_len, info.file_size)


def _copy_bounded(src, dst, limit):
    total = 0
    while True:
        chunk = src.read(min(_COPY, limit + 1 - total))
        if not chunk:
            return total
        total += len(chunk)
        if total > limit:
            return total
        dst.write(chunk)


class H5Weights:
    """Checked access to the groups and datasets of one Keras HDF5 weights file.

    `source` and `member` name the file (and zip member) in errors; use as a context manager.
    """

    def __init__(self, source, fileobj, member=None):
        self.source, self.member = source, member
        self.h5py = h5py_module(source)
        try:
            self.file = self.h5py.File(fileobj, "r")
        except Exception as err:
            fail(source, f"not a readable HDF5 file ({type(err).__name__}: {err}).",
                 member)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()
        return False

    def error(self, message, path=None):
        fail(self.source, (f"HDF5 object '/{path}': " if path else "") + message, self.member)

    def _child(self, group, name, path, kind):
        """`group[name]` after checking that it is a hard link to a `kind` (None if absent)."""
        try:
            link = group.get(name, getlink=True)
            if link is None:
                return None
            if not isinstance(link, self.h5py.HardLink):
                self.error(f"'{name}' is a {type(link).__name__}; only hard links are read "
                           "(an external or soft link would open another file or object).",
                           path)
            obj = group[name]
        except checks.ModelFileError:
            raise
        except Exception as err:
            self.error(f"the HDF5 object cannot be read ({type(err).__name__}: {err}).", path)
        want = self.h5py.Group if kind == "group" else self.h5py.Dataset
        if not isinstance(obj, want):
            self.error(f"expected an HDF5 {kind}, found {type(obj).__name__}.", path)
        return obj

    def group(self, path):
        """The group at `path` ("" for the root), or None when a part of it is absent."""
        group = self.file
        done = []
        for part in [p for p in path.split("/") if p]:
            done.append(part)
            group = self._child(group, part, "/".join(done), "group")
            if group is None:
                return None
        return group

    def keys(self, group, path):
        """The names in `group` (at most MAX_GROUP_ITEMS)."""
        try:
            n = len(group)
            if n > MAX_GROUP_ITEMS:
                self.error(f"the group holds {n} entries; at most {MAX_GROUP_ITEMS} are read.",
                           path)
            return list(group.keys())
        except checks.ModelFileError:
            raise
        except Exception as err:
            self.error(f"the HDF5 group cannot be listed ({type(err).__name__}: {err}).", path)

    def read(self, group, key, path, shape, kind, dtype, what):
        """The dataset `group[key]` as an array of `dtype`, after checking that it is a plain
        dataset whose dtype is of `kind` ("f" float, "i" integer) and whose shape is `shape`."""
        ds = self._child(group, key, path, "dataset")
        if ds is None:
            self.error(f"{what} is missing.", path)
        try:
            virtual, external = ds.is_virtual, ds.external
            got_shape, got = tuple(ds.shape) if ds.shape is not None else None, ds.dtype
            chunks = ds.chunks
        except Exception as err:
            self.error(f"{what}: the dataset cannot be read ({type(err).__name__}: {err}).",
                       path)
        if virtual or external:
            self.error(f"{what} is a {'virtual' if virtual else 'external'} dataset (its data "
                       "would come from other files); refused.", path)
        if got.fields is not None or got.subdtype is not None or got.kind not in "fiub" or \
                got.itemsize > 8:
            self.error(f"{what} has dtype {got}; expected a plain "
                       f"{'float' if kind == 'f' else 'integer'} type.", path)
        if (kind == "f") != (got.kind == "f"):
            self.error(f"{what} has dtype {got.name} in the file, but the model needs a "
                       f"{'float' if kind == 'f' else 'integer'} ({np.dtype(dtype).name}).",
                       path)
        if got_shape != tuple(shape):
            self.error(f"{what} has shape {got_shape} in the file, but the model's "
                       f"architecture needs shape {tuple(shape)}.", path)
        nbytes = int(np.prod(shape, dtype=np.int64)) * got.itemsize
        if chunks is not None:
            chunk_bytes = int(np.prod(chunks, dtype=np.int64)) * got.itemsize
            if chunk_bytes > max(nbytes, MAX_CHUNK_BYTES):
                self.error(f"{what}: HDF5 chunks of {chunk_bytes} bytes for {nbytes} bytes of "
                           "data; refused.", path)
        out = np.empty(shape, dtype)
        try:
            if out.size:
                ds.read_direct(out)
        except Exception as err:
            self.error(f"{what}: the data cannot be read ({type(err).__name__}: {err}); the "
                       "file is damaged.", path)
        return out


@contextlib.contextmanager
def open_weights_file(path):
    """`H5Weights` over a `.weights.h5` file on disk (checked to be a regular HDF5 file)."""
    import stat
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            fail(path, "it is a directory, not a weights file.")
        if not stat.S_ISREG(st.st_mode):
            fail(path, "it is not a regular file (a pipe or device?).")
        fp = open(path, "rb")
    except FileNotFoundError:
        fail(path, "no such file.")
    except OSError as err:
        fail(path, f"the file cannot be read ({type(err).__name__}: {err}).")
    with fp:
        with H5Weights(path, fp) as h5:
            yield h5

