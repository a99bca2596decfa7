"""The zip container: atomic writes, and a reader that checks everything before trusting it.

Writing: members go into a temporary file in the target's directory, which is flushed, fsynced and
moved over the target with `os.replace`, so a crash or a full disk never leaves a half-written file
where the previous one was (and no temporary file is left behind by an exception).

Reading: the zip directory is validated first (`checks.check_members`), then `metadata.json`,
whose sha256 of every other member is verified as each member is read. Arrays are read with a
hand-validated header straight into a new array (never unpickling, never accepting object arrays).
"""
import datetime
import hashlib
import json
import os
import re
import stat
import tempfile
import zipfile

import numpy as np

from . import checks
from .checks import fail

FORMAT_VERSION = 1
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_UMASK = os.umask(0)
os.umask(_UMASK)


# ----------------------------------------------------------------------------- writing
class _HashingWriter:
    """A write-only stream that forwards to a zip member and hashes what passes through."""

    def __init__(self, fp):
        self.fp, self.sha = fp, hashlib.sha256()

    def write(self, data):
        self.sha.update(data)
        return self.fp.write(data)


class ArchiveWriter:
    """Collects members into an open zip; `close(metadata)` adds metadata.json with checksums."""

    def __init__(self, fileobj):
        self.zip = zipfile.ZipFile(fileobj, "w", allowZip64=True)
        self.sums = {}

    def _open(self, name, compress):
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return self.zip.open(info, "w", force_zip64=not compress)

    def add_json(self, name, data):
        """Add JSON already encoded to bytes (encode first, so errors come before writing)."""
        with self._open(name, compress=True) as fp:
            fp.write(data)
        self.sums[name] = hashlib.sha256(data).hexdigest()

    def add_array(self, name, array):
        # Arrays are stored uncompressed: float data barely compresses, and the reader can then
        # refuse any member whose compression ratio looks like a zip bomb.
        array = np.asarray(array)
        if not array.flags.c_contiguous:
            array = array.copy(order="C")
        with self._open(name, compress=False) as fp:
            out = _HashingWriter(fp)
            np.lib.format.write_array(out, array, allow_pickle=False)
        self.sums[name] = out.sha.hexdigest()

    def abort(self):
        """Release the zip after a failed write (the temporary file is deleted anyway)."""
        try:
            self.zip.close()
        except Exception:
            pass

    def close(self, fmt, manifest, extra=None):
        from .. import __version__
        meta = {"format": fmt, "format_version": FORMAT_VERSION, "kerasnp_version": __version__,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                **manifest, "members": dict(self.sums), "extra": extra or {}}
        data = json.dumps(meta, separators=(",", ":")).encode("utf-8")
        with self._open("metadata.json", compress=True) as fp:
            fp.write(data)
        self.zip.close()


def atomic_write(filepath, write_members, fmt, extra=None):
    """Write a zip to `filepath` atomically.

    `write_members(writer)` adds the members and returns the manifest (a dict merged into
    metadata.json, e.g. the list of weight paths). An `OSError` (a full disk, a missing
    permission) is raised again with the same type and errno, its message naming `filepath`.
    """
    filepath = os.fspath(filepath)
    try:
        _atomic_write(filepath, write_members, fmt, extra)
    except OSError as err:
        raise _naming(err, filepath) from err


def _atomic_write(filepath, write_members, fmt, extra):
    def write(fp):
        writer = ArchiveWriter(fp)
        try:
            manifest = write_members(writer)
        except BaseException:
            writer.abort()
            raise
        writer.close(fmt, manifest, extra)
    _atomic_file(filepath, write)


def atomic_file(filepath, write):
    """Write a file atomically: `write(fp)` fills a temporary file in the target's directory,
    which is then fsynced and renamed over `filepath` (errors as in `atomic_write`)."""
    filepath = os.fspath(filepath)
    try:
        _atomic_file(filepath, write)
    except OSError as err:
        raise _naming(err, filepath) from err


def _atomic_file(filepath, write):
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(filepath), suffix=_TEMP_SUFFIX,
                               dir=directory)
    try:
        with os.fdopen(fd, "w+b") as fp:
            write(fp)
            fp.flush()
            os.fsync(fp.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, filepath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _naming(err, filepath):
    """`err` again (same type, errno), its message saying which file could not be saved."""
    reason = err.strerror or str(err)
    if err.filename is not None and os.fspath(err.filename) != filepath:
        reason += f" ('{os.fsdecode(err.filename)}')"
    message = f"cannot save '{filepath}': {reason}"
    try:
        return type(err)(err.errno, message) if err.errno is not None else type(err)(message)
    except Exception:                                 # a subclass with another signature
        return OSError(err.errno, message)


_TEMP_SUFFIX = ".tmp"


def _temp_prefix(filepath):
    return "." + os.path.basename(filepath) + "."


def leftover_temp_files(filepath):
    """Temporary files that interrupted saves to `filepath` left in its directory (a killed
    process cannot delete its own). Only for a caller that knows no save to `filepath` is
    running, e.g. BackupAndRestore, the only writer of its folder."""
    directory = os.path.dirname(os.path.abspath(filepath))
    prefix = _temp_prefix(filepath)
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    # mkstemp puts random characters from [a-z0-9_] between the prefix and the suffix
    pattern = re.compile(re.escape(prefix) + r"[a-z0-9_]+" + re.escape(_TEMP_SUFFIX))
    return [os.path.join(directory, n) for n in names if pattern.fullmatch(n)]


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ----------------------------------------------------------------------------- reading
def file_head(src, what="model file"):
    """`(first 16 bytes, size)` of a regular file; `ModelFileError` for anything else."""
    try:
        st = os.stat(src)
        if stat.S_ISDIR(st.st_mode):
            fail(src, f"it is a directory, not a {what}.")
        if not stat.S_ISREG(st.st_mode):
            fail(src, "it is not a regular file (a pipe or device?).")
        with open(src, "rb") as fp:
            return fp.read(16), st.st_size
    except FileNotFoundError:
        fail(src, "no such file.")
    except OSError as err:
        fail(src, f"the file cannot be read ({type(err).__name__}: {err}).")


def open_zip(src):
    """`(ZipFile, infos, file size)` of a readable zip archive; `ModelFileError` (saying what
    the file is instead) otherwise."""
    head, size = file_head(src)
    if not head.startswith(b"PK"):
        checks.sniff(src, head, size)
    zf = None
    try:
        zf = zipfile.ZipFile(src, "r")
        return zf, zf.infolist(), size
    except Exception:                         # BadZipFile, struct/zlib/unicode errors, ...
        if zf is not None:
            zf.close()
        checks.sniff(src, head, size)


class ArchiveReader:
    """A validated, read-only view of a kerasnp zip file (use as a context manager).

    Opening checks the zip directory and reads `metadata.json`; every later read verifies the
    member's sha256 against it.
    """

    def __init__(self, filepath, formats):
        self.source = os.fspath(filepath)
        self.zip = None
        self._open(formats)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def close(self):
        if self.zip is not None:
            self.zip.close()
            self.zip = None

    def _open(self, formats):
        self.zip, infos, size = open_zip(self.source)
        try:
            self._check_directory(infos, size, formats)
        except BaseException:
            self.close()
            raise

    def _check_directory(self, infos, size, formats):
        src = self.source
        names = [i.filename for i in infos]
        checks.reject_foreign(src, names, self.zip)
        present = checks.check_members(src, infos, size)
        self.infos = {i.filename: i for i in infos}
        if "metadata.json" not in present:
            fail(src, "the archive has no metadata.json, so it is not a kerasnp file.")
        meta = checks.parse_json(src, "metadata.json",
                                 self._read_raw("metadata.json", checks.MAX_JSON_BYTES))
        if not isinstance(meta, dict) or meta.get("format") not in formats:
            if isinstance(meta, dict) and "keras_version" in meta:
                checks.keras_file(src, meta)
            fail(src, f"metadata.json does not describe a {' or '.join(formats)} file "
                      f"(format={meta.get('format') if isinstance(meta, dict) else None!r}).",
                 "metadata.json")
        version = meta.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            fail(src, f"bad format_version {version!r}.", "metadata.json")
        if version > FORMAT_VERSION:
            fail(src, f"written in format version {version} by kerasnp "
                      f"{meta.get('kerasnp_version')!r}; this kerasnp reads format "
                      f"{FORMAT_VERSION}. Upgrade kerasnp.", "metadata.json")
        sums = meta.get("members")
        if not isinstance(sums, dict) or not all(
                isinstance(v, str) and len(v) == 64 for v in sums.values()):
            fail(src, "metadata.json has no valid 'members' checksum table.", "metadata.json")
        listed, stored = set(sums), present - {"metadata.json"}
        if listed != stored:
            missing, unlisted = sorted(listed - stored), sorted(stored - listed)
            fail(src, "the archive's members do not match metadata.json"
                      + (f"; missing: {', '.join(missing)}" if missing else "")
                      + (f"; not listed: {', '.join(unlisted)}" if unlisted else "")
                      + ". The file is incomplete or was altered.")
        extra = meta.get("extra", {})
        if not isinstance(extra, dict):
            fail(src, "metadata.json 'extra' must be an object.", "metadata.json")
        self.meta, self.sums, self.extra = meta, sums, extra

    # -- members ------------------------------------------------------------------------------
    def has(self, name):
        return name in self.infos

    def _read_raw(self, name, limit):
        """The member's bytes; never reads more than `limit` + 1 (the directory was checked
        against the limits already: this holds even if a size there lies)."""
        info = self.infos[name]
        if info.file_size > limit:
            fail(self.source, f"the member declares {info.file_size} bytes; the limit is "
                              f"{limit}.", name)
        try:
            with self.zip.open(info) as fp:
                data = fp.read(info.file_size + 1)
        except Exception as err:
            fail(self.source, f"the member cannot be read ({type(err).__name__}: {err}); the "
                              "file is damaged.", name)
        if len(data) != info.file_size:
            fail(self.source, f"expected {info.file_size} bytes, read {len(data)}; the file is "
                              "damaged.", name)
        return data

    def _verify(self, name, digest):
        if digest != self.sums[name]:
            fail(self.source, "sha256 checksum mismatch: the member was altered or damaged "
                              "after saving.", name)

    def read_json(self, name):
        data = self._read_raw(name, checks.MAX_JSON_BYTES)
        self._verify(name, hashlib.sha256(data).hexdigest())
        return checks.parse_json(self.source, name, data)

    def array_header(self, name):
        """`(shape, dtype)` of an array member, validated (no data read)."""
        info = self.infos[name]
        try:
            with self.zip.open(info) as fp:
                return checks.read_npy_header(self.source, name, fp, info.file_size)
        except checks.ModelFileError:
            raise
        except Exception as err:
            fail(self.source, f"the member cannot be read ({type(err).__name__}: {err}); the "
                              "file is damaged.", name)

    def read_array(self, name, shape, dtype, what):
        """Read an array member whose header must say exactly `shape` (and `dtype`, unless
        `dtype` is None: any plain numeric dtype, for callers that cast on assignment).

        `what` names the weight for messages ("layer 'dense' weight 'kernel'"). The header is
        validated before the data is read into a new array of the expected size.
        """
        info = self.infos[name]
        src = self.source
        try:
            with self.zip.open(info) as fp:
                sha = hashlib.sha256()
                got_shape, got_dtype = checks.read_npy_header(src, name, _Tee(fp, sha),
                                                              info.file_size)
                if got_shape != tuple(shape):
                    fail(src, f"{what} has shape {got_shape} in the file, but the model's "
                              f"architecture needs shape {tuple(shape)}.", name)
                if dtype is not None and got_dtype != np.dtype(dtype):
                    fail(src, f"{what} has dtype {got_dtype.name} in the file, but the model "
                              f"expects {np.dtype(dtype).name}.", name)
                array = np.empty(got_shape, got_dtype)
                view = memoryview(array.reshape(-1).view(np.uint8))
                n = fp.readinto(view) if array.size else 0
                if n != array.nbytes or fp.read(1):
                    fail(src, f"{what}: expected {array.nbytes} bytes of data, the member "
                              f"ends after {n}.", name)
                sha.update(view)
        except checks.ModelFileError:
            raise
        except Exception as err:
            fail(src, f"the member cannot be read ({type(err).__name__}: {err}); the file is "
                      "damaged.", name)
        self._verify(name, sha.hexdigest())
        return array


class _Tee:
    """Reads from `fp` and feeds what it returns into a hash (for the header bytes)."""

    def __init__(self, fp, sha):
        self.fp, self.sha = fp, sha

    def read(self, n=-1):
        data = self.fp.read(n)
        self.sha.update(data)
        return data
