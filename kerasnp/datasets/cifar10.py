"""CIFAR-10: 32x32 colour images in 10 classes, read from the *binary* distribution with NumPy.

Keras loads `cifar-10-python.tar.gz`, whose batches are Python pickles; kerasnp never unpickles
(a pickle can run arbitrary code), so it reads `cifar-10-binary.tar.gz` from the dataset's home
page instead: the same images, stored as raw records. Each `.bin` batch is a run of 3,073-byte
records: 1 label byte, then the 1,024 red, 1,024 green and 1,024 blue pixel bytes of a 32x32
image (row-major planes). They are converted to Keras's channels-last layout.

The tar file is read in place: members are looked up by their exact expected names and read into
memory, never extracted to disk; an archive holding anything but plain files and directories, or
a name that is absolute or contains `..`, is rejected. No sha256 is published for the archive, so
its structure is checked on first use and its digest pinned in a `.sha256` sidecar file.
"""
import os
import tarfile
import zlib

import numpy as np

from . import _cache

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"
_FILE = "cifar-10-binary.tar.gz"
_DIR = "cifar-10-batches-bin/"
_TRAIN = tuple(f"{_DIR}data_batch_{i}.bin" for i in range(1, 6))
_TEST = f"{_DIR}test_batch.bin"
_SIDE = 32
_RECORD = 1 + 3 * _SIDE * _SIDE  # label byte + R, G, B planes
_MAX_RECORDS = 10000  # per batch file in the real archive
_N_CLASSES = 10


def _bad(path, problem):
    return ValueError(f"'{path}' is not a valid CIFAR-10 binary archive ({_FILE}): {problem}. "
                      f"Delete it and download it again from {_ORIGIN}.")


def _check_member(path, member):
    """Reject members that could escape a directory or are not plain files/directories."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise _bad(path, f"member '{name}' has an absolute or parent-relative ('..') path")
    if not (member.isreg() or member.isdir()):
        kind = "a symlink" if member.issym() else "a hard link" if member.islnk() else \
            "a device or special file"
        raise _bad(path, f"member '{name}' is {kind}; only regular files and directories are "
                         f"accepted")


def _read_member(path, tar, member):
    """The records of one batch member as a (n, 3073) uint8 array."""
    size = member.size
    if size == 0 or size % _RECORD or size > _MAX_RECORDS * _RECORD:
        raise _bad(path, f"member '{member.name}' holds {size} bytes; expected a positive "
                         f"multiple of {_RECORD} (1 label byte + 3x32x32 pixel bytes per record), "
                         f"at most {_MAX_RECORDS} records")
    out = np.empty(size, np.uint8)
    view, got, f = memoryview(out), 0, tar.extractfile(member)
    while got < size:
        k = f.readinto(view[got:])
        if not k:
            raise _bad(path, f"member '{member.name}' ends after {got} of {size} bytes")
        got += k
    records = out.reshape(-1, _RECORD)
    if records[:, 0].max() >= _N_CLASSES:
        raise _bad(path, f"member '{member.name}' holds the label {int(records[:, 0].max())}; "
                         f"labels are 0-{_N_CLASSES - 1}")
    return records


def _read_archive(path, dest=None):
    """Map each expected batch name to its (n, 3073) records, validating the whole archive."""
    wanted, found = set(_TRAIN + (_TEST,)), {}
    try:
        with tarfile.open(path, "r|gz") as tar:  # stream mode: one pass, no seeking back
            for member in tar:
                _check_member(path, member)
                if member.name not in wanted:
                    continue
                if member.name in found:
                    raise _bad(path, f"member '{member.name}' appears twice")
                if not member.isreg():
                    raise _bad(path, f"member '{member.name}' is not a regular file")
                found[member.name] = _read_member(path, tar, member)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise _bad(path, f"the tar.gz stream cannot be read ({type(e).__name__}: {e})") from e
    missing = sorted(wanted - set(found))
    if missing:
        raise _bad(path, f"missing member(s) {', '.join(missing)}")
    return found


def _to_images(batches):
    """Stack record batches into channels-last images (n, 32, 32, 3) and labels (n, 1)."""
    n = sum(len(b) for b in batches)
    x = np.empty((n, _SIDE, _SIDE, 3), np.uint8)
    y = np.empty((n, 1), np.uint8)
    start = 0
    for records in batches:
        stop = start + len(records)
        y[start:stop, 0] = records[:, 0]
        # (n, 3, 32, 32) channel planes -> (n, 32, 32, 3), written once into the output
        x[start:stop] = records[:, 1:].reshape(-1, 3, _SIDE, _SIDE).transpose(0, 2, 3, 1)
        start = stop
    return x, y


def load_data():
    """Load the CIFAR-10 dataset: 50,000 training and 10,000 test 32x32 colour images.

    Labels: 0 airplane, 1 automobile, 2 bird, 3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship,
    9 truck.

    Reads `cifar-10-binary.tar.gz` (the binary distribution from the CIFAR home page; Keras's
    Python version holds pickles, which kerasnp never loads) from
    `$KERASNP_HOME/datasets/` (default `~/.kerasnp/datasets/`), downloading it when missing
    unless the environment sets `KERASNP_OFFLINE=1`. The archive is read in memory, never
    extracted; its structure is checked on first use and its sha256 pinned in a
    `cifar-10-binary.tar.gz.sha256` sidecar file, which later loads must match.

    Returns:
        `((x_train, y_train), (x_test, y_test))`: uint8 images of shape `(n, 32, 32, 3)`
        (channels last, RGB, values 0-255) and uint8 labels 0-9 of shape `(n, 1)`.

    Raises:
        FileNotFoundError: when the archive is missing and cannot be downloaded; the message names
            the full path to place it at and the URL it comes from.
        ValueError: when the archive is malformed, unsafe (links, devices, `..` or absolute
            member names), or differs from its pinned sha256.

    Example:
        >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
        >>> x_train.shape, y_train.shape  # doctest: +SKIP
        ((50000, 32, 32, 3), (50000, 1))
    """
    path = os.path.join(_cache.cache_dir(), _FILE)
    _cache.fetch_missing([(path, _ORIGIN)], "CIFAR-10 (binary version)", verify=_read_archive)
    batches = _cache.load_pinned(path, f"the CIFAR-10 binary archive {_FILE}", _read_archive)
    train, test = _to_images([batches[name] for name in _TRAIN]), _to_images([batches[_TEST]])
    return train, test
