"""Read Keras's `.npz` dataset files without unpickling.

Keras's IMDB and Reuters files store ragged sequences as object arrays, which NumPy writes as a
pickle inside each `.npy` member. Those members go to the restricted reader of `_safe_pickle`
(lists of ints only; nothing in the file is run or imported); numeric members (the labels) are
read by a strict `.npy` header parser and `np.frombuffer`. `MAX_MEMBER_BYTES` bounds what one
member may hold uncompressed.
"""
import re
import zipfile

import numpy as np

from . import _safe_pickle

MAX_MEMBER_BYTES = 1 << 30       # one member, uncompressed
_HEADER = re.compile(r"\{\s*'descr'\s*:\s*'(?P<descr>[<>|=][a-zA-Z]\d{0,2})'\s*,\s*"
                     r"'fortran_order'\s*:\s*(?P<fortran>True|False)\s*,\s*"
                     r"'shape'\s*:\s*\((?P<shape>[0-9,\s]*)\)\s*,?\s*\}\s*")
_NUMERIC = "biuf"


def read_npy(raw, where):
    """A `.npy` member's bytes -> array: numeric dtypes by `np.frombuffer`, object arrays by
    the restricted pickle reader."""
    if raw[:6] != b"\x93NUMPY" or len(raw) < 10 or raw[6] not in (1, 2, 3):
        raise ValueError(f"{where}: not a .npy array (bad magic bytes or version).")
    width = 2 if raw[6] == 1 else 4
    hlen = int.from_bytes(raw[8:8 + width], "little")
    start = 8 + width + hlen
    if hlen > 4096 or start > len(raw):
        raise ValueError(f"{where}: a .npy header of {hlen} bytes (truncated or too long).")
    text = raw[8 + width:start].decode("latin1")
    m = _HEADER.fullmatch(text)
    if m is None or m.group("fortran") == "True":
        raise ValueError(f"{where}: unexpected .npy header {text[:120].strip()!r}.")
    dims = [d.strip() for d in m.group("shape").split(",") if d.strip()]
    if any(not d.isdigit() for d in dims):
        raise ValueError(f"{where}: bad shape in the .npy header {text[:120].strip()!r}.")
    shape = tuple(int(d) for d in dims)
    descr = m.group("descr")
    if descr[1] == "O":
        return _safe_pickle.read(raw[start:], where)
    try:
        dtype = np.dtype(descr)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in _NUMERIC or dtype.fields is not None:
        raise ValueError(f"{where}: dtype {descr!r} is not a plain numeric type.")
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - start != count * dtype.itemsize:
        raise ValueError(f"{where}: the header declares shape {shape} of {dtype} but the member "
                         f"holds {len(raw) - start} bytes of data.")
    return np.frombuffer(raw, dtype=dtype, count=count, offset=start).reshape(shape).astype(
        dtype.newbyteorder("="))


def load_npz(path, names):
    """`{name: array}` for the members `name + '.npy'` of the `.npz` file at `path`."""
    out = {}
    try:
        with zipfile.ZipFile(path) as zf:
            for name in names:
                member = f"{name}.npy"
                where = f"'{path}' member '{member}'"
                try:
                    info = zf.getinfo(member)
                except KeyError:
                    raise ValueError(f"{where}: missing; the file holds "
                                     f"{sorted(zf.namelist())[:10]}.") from None
                if info.file_size > MAX_MEMBER_BYTES:
                    raise ValueError(f"{where}: {info.file_size} bytes uncompressed; the limit "
                                     f"is {MAX_MEMBER_BYTES}.")
                with zf.open(info) as f:
                    raw = f.read(MAX_MEMBER_BYTES + 1)
                if len(raw) > MAX_MEMBER_BYTES:
                    raise ValueError(f"{where}: more than {MAX_MEMBER_BYTES} bytes.")
                out[name] = read_npy(raw, where)
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise ValueError(f"'{path}' is not a readable .npz file ({err}).") from None
    return out
