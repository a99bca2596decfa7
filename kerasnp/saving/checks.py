"""Validation of untrusted model files: limits, member names, JSON, `.npy` headers.

Everything here runs BEFORE anything is allocated from what a file claims. A file may be
truncated, damaged or written by an attacker; each check raises `ModelFileError` (a ValueError)
that names the file, the member and what was expected. Nothing in this module imports, evaluates
or unpickles anything a file says.

The limits are module constants; raise them (e.g. `checks.MAX_MEMBER_BYTES = 2**38`) to open an
unusually large model you trust.
"""
import json
import re
import sys

import numpy as np

MAX_MEMBERS = 65_536             # zip members in one file
MAX_MEMBER_BYTES = 2**36         # uncompressed size of one member (64 GiB)
MAX_TOTAL_BYTES = 2**38          # uncompressed size of all members together
MAX_RATIO = 100                  # uncompressed / compressed size, for members over RATIO_FROM
RATIO_FROM = 2**16               # small members cannot be zip bombs; their ratio is not checked
MAX_JSON_BYTES = 2**26           # one JSON member (64 MiB)
MAX_JSON_DEPTH = 128             # nesting of JSON lists/objects
MAX_LAYERS = 10_000              # layer entries in a model config (all nesting levels)
MAX_NPY_HEADER = 4096            # bytes of one .npy header (numpy writes ~128)
MAX_NDIM = 32
MAX_BYTES_WITHOUT_WEIGHTS = 2**32    # weights a bare config (model_from_json) may allocate

_NPY_MAGIC = b"\x93NUMPY"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")


class ModelFileError(ValueError):
    """A model or weights file (or model JSON) that kerasnp refuses to load.

    Raised for every problem found while reading: a missing, truncated, damaged or foreign file,
    a member that breaks a safety limit, an unknown class, a weight whose shape disagrees with the
    architecture. The message names the file, the member, the layer and weight where known, what
    was expected and what was found. Nothing was changed when it is raised.
    """


def fail(source, message, member=None):
    """Raise `ModelFileError` for `source` (a path or '<json string>'), optionally a member."""
    where = f"'{source}'" + (f", member '{member}'" if member else "")
    # `from None`: the message says everything; no NumPy/zipfile/json traceback is chained.
    raise ModelFileError(f"Cannot load {where}: {message}") from None


# ----------------------------------------------------------------------------- file kinds
def sniff(source, head, size):
    """Explain what a file that is not a readable zip archive is (always raises)."""
    if size == 0:
        fail(source, "the file is empty (0 bytes); it is not a kerasnp model file.")
    if head.startswith(_HDF5_MAGIC):
        fail(source, "this is an HDF5 file: Keras '.weights.h5' weights (load them with "
                     "model.load_weights into a model built in code) or a legacy Keras 2 '.h5' "
                     "model, which kerasnp does not read (open it in Keras and save it as "
                     "'.keras').")
    if head.startswith(_ZIP_MAGICS):
        fail(source, f"the zip archive is truncated or damaged ({size} bytes; its end-of-archive "
                     "record is missing or corrupt). Save the model again.")
    if head.startswith(_NPY_MAGIC):
        fail(source, "this is a single NumPy '.npy' array, not a kerasnp model file.")
    shown = head[:8].hex(" ")
    fail(source, f"it is not a kerasnp model file (not a zip archive: it starts with bytes "
                 f"{shown}, expected a zip header 50 4b 03 04).")


# ----------------------------------------------------------------------------- foreign zips
def reject_foreign(src, names, zf):
    """Recognise the zip archives that are not kerasnp files (Keras 3 `.keras`, NumPy `.npz`)."""
    if "model.weights.h5" in names or "model.weights.npz" in names:
        meta = {}
        if names.count("metadata.json") == 1:
            info = zf.getinfo("metadata.json")
            if info.file_size <= 2**16 and info.compress_size <= 2**16:
                try:
                    with zf.open(info) as fp:
                        meta = json.loads(fp.read(2**16 + 1))
                except Exception:
                    meta = {}
        keras_file(src, meta if isinstance(meta, dict) else {})
    if names and all(n.endswith(".npy") and "/" not in n for n in names):
        fail(src, "this is a NumPy '.npz' archive, not a kerasnp model file. Weights saved with "
                  "np.savez can be set with model.set_weights([...]).")


def keras_file(src, meta):
    """Raise the error for a Keras 3 `.keras` file where a kerasnp file is needed."""
    version = meta.get("keras_version")
    fail(src, f"this is a Keras '.keras' file (keras_version {version!r}), not a kerasnp "
              "checkpoint: open it with kerasnp.models.load_model, or read its weights with "
              "model.load_weights.")


# ----------------------------------------------------------------------------- members
_ALLOWED = re.compile(r"(metadata|config|state)\.json|(weights|optimizer|extra)/\d{5}\.npy")
_ALLOWED_TEXT = ("a kerasnp file holds only metadata.json, config.json, state.json, "
                 "weights/NNNNN.npy, optimizer/NNNNN.npy and extra/NNNNN.npy.")


def check_members(source, infos, file_size, allowed=None):
    """Validate the zip directory (names, count, sizes, compression) before reading anything.

    Every limit applies to the sizes the directory declares, so nothing is read or decompressed
    for a member that breaks one; readers then never read past a member's declared size.
    `allowed` is `(pattern, description)` of the member names (default: kerasnp's).
    """
    if len(infos) > MAX_MEMBERS:
        fail(source, f"the archive has {len(infos)} members; at most {MAX_MEMBERS} are allowed.")
    seen, total = set(), 0
    for info in infos:
        name = info.filename
        _check_name(source, name, allowed)
        if name in seen:
            fail(source, "the archive holds this member twice (duplicate names are refused: "
                         "which copy would be read is ambiguous).", name)
        seen.add(name)
        if info.flag_bits & 0x1:
            fail(source, "the member is encrypted; kerasnp files never are.", name)
        if info.compress_type not in (0, 8):
            fail(source, f"compression method {info.compress_type} is not allowed (expected "
                         "0 stored or 8 deflated).", name)
        if info.file_size > MAX_MEMBER_BYTES:
            fail(source, f"the member declares {info.file_size} bytes; the limit is "
                         f"{MAX_MEMBER_BYTES} (checks.MAX_MEMBER_BYTES).", name)
        if name.endswith(".json") and info.file_size > MAX_JSON_BYTES:
            fail(source, f"the member declares {info.file_size} bytes of JSON; the limit is "
                         f"{MAX_JSON_BYTES} (checks.MAX_JSON_BYTES).", name)
        if info.compress_type == 0 and info.file_size != info.compress_size:
            fail(source, f"a stored member must have equal sizes; it declares "
                         f"{info.file_size} bytes uncompressed, {info.compress_size} stored.", name)
        if info.compress_size > file_size:
            fail(source, f"the member claims {info.compress_size} compressed bytes but the file "
                         f"has only {file_size}; the file is truncated or damaged.", name)
        if info.file_size > RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            fail(source, f"compression ratio {info.file_size / max(info.compress_size, 1):.0f}:1 "
                         f"({info.compress_size} bytes expanding to {info.file_size}) exceeds "
                         f"{MAX_RATIO}:1; refusing a possible zip bomb.", name)
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        fail(source, f"the members total {total} bytes uncompressed; the limit is "
                     f"{MAX_TOTAL_BYTES} (checks.MAX_TOTAL_BYTES).")
    return seen


def _check_name(source, name, allowed=None):
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        fail(source, "absolute member paths are refused.", name)
    if "\\" in name:
        fail(source, "backslashes in member names are refused.", name)
    if ".." in name.split("/"):
        fail(source, "'..' in member names is refused (path traversal).", name)
    pattern, described = allowed or (_ALLOWED, _ALLOWED_TEXT)
    if "\x00" in name or not pattern.fullmatch(name):
        fail(source, f"unexpected member name; {described}", name)


# ----------------------------------------------------------------------------- JSON
_SCAN_CHUNK = 2**18              # bytes scanned per vectorised step (bounds the scan's memory)
_QUOTE, _BACKSLASH = ord('"'), ord("\\")
_OPEN, _CLOSE = np.zeros(256, np.int8), np.zeros(256, np.int8)
_OPEN[[ord("["), ord("{")]] = 1
_CLOSE[[ord("]"), ord("}")]] = 1


def parse_json(source, member, data):
    """Parse JSON bytes after checking their size and nesting depth."""
    if len(data) > MAX_JSON_BYTES:
        fail(source, f"{len(data)} bytes of JSON; the limit is {MAX_JSON_BYTES} "
                     "(checks.MAX_JSON_BYTES).", member)
    depth = json_depth(data)
    if depth > MAX_JSON_DEPTH:
        fail(source, f"JSON nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}.", member)
    try:
        text = data.decode("utf-8")
        return json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        fail(source, f"invalid JSON ({type(err).__name__}: {err}).", member)


def json_depth(data):
    """Maximum bracket nesting of JSON bytes, ignoring brackets inside strings.

    One linear pass, vectorised chunk by chunk: a quote opens or closes a string unless an odd
    run of backslashes precedes it. Up to the first syntax error this reads strings exactly as
    the parser does, and the parser stops there, so it never nests deeper than this says.
    """
    codes = np.frombuffer(data, dtype=np.uint8)
    depth = best = 0
    in_string = 0                # 1 inside a string
    run = 0                      # backslashes ending the previous chunk
    for lo in range(0, len(codes), _SCAN_CHUNK):
        c = codes[lo:lo + _SCAN_CHUNK]
        pos = np.arange(len(c), dtype=np.int32)
        # backslashes ending at each position: distance to the last other byte
        last_other = np.maximum.accumulate(np.where(c != _BACKSLASH, pos, -1))
        ending = pos - last_other + np.where(last_other < 0, run, 0)
        before = np.empty_like(ending)
        before[0], before[1:] = run, ending[:-1]
        quotes = (c == _QUOTE) & (before % 2 == 0)
        inside = (np.cumsum(quotes) + in_string) % 2          # a bracket is never a quote
        step = np.where(inside == 0, _OPEN[c] - _CLOSE[c], 0)
        levels = np.cumsum(step) + depth
        best = max(best, int(levels.max()))
        depth, in_string, run = int(levels[-1]), int(inside[-1]), int(ending[-1])
    return best


def count_layers(config, limit=MAX_LAYERS):
    """Number of layer entries in a (possibly nested) model config; stops past `limit`."""
    count, stack = 0, [config]
    while stack and count <= limit:
        node = stack.pop()
        if isinstance(node, dict):
            layers = node.get("layers")
            if isinstance(layers, list):
                count += len(layers)
            stack.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))
    return count


# ----------------------------------------------------------------------------- .npy headers
_HEADER = re.compile(
    r"\{\s*'descr'\s*:\s*'(?P<descr>[<>|=][a-z]\d{1,2})'\s*,"
    r"\s*'fortran_order'\s*:\s*(?P<fortran>True|False)\s*,"
    r"\s*'shape'\s*:\s*\((?P<shape>[0-9,\s]*)\)\s*,?\s*\}\s*")
_KINDS = {"f": "float", "i": "int", "u": "unsigned int", "b": "bool"}


def read_npy_header(source, member, fp, member_size):
    """Parse and validate a `.npy` header from stream `fp` (positioned at the member start).

    The header is parsed by a strict pattern (never evaluated). Returns `(shape, dtype)` after
    checking: a plain numeric dtype (float, int, unsigned, bool; no object, string or structured
    types), little-endian, C order, at most MAX_NDIM axes, and a data size that equals the member
    size exactly.
    """
    magic = fp.read(8)
    if len(magic) < 8 or magic[:6] != _NPY_MAGIC:
        fail(source, "not a .npy array (bad magic bytes).", member)
    major = magic[6]
    if major not in (1, 2, 3) or magic[7] != 0:
        fail(source, f"unsupported .npy format version {magic[6]}.{magic[7]}.", member)
    width = 2 if major == 1 else 4
    raw = fp.read(width)
    if len(raw) < width:
        fail(source, "truncated .npy header.", member)
    hlen = int.from_bytes(raw, "little")
    if hlen > MAX_NPY_HEADER:
        fail(source, f".npy header of {hlen} bytes; the limit is {MAX_NPY_HEADER}.", member)
    header = fp.read(hlen)
    if len(header) < hlen:
        fail(source, "truncated .npy header.", member)
    try:
        text = header.decode("utf-8" if major == 3 else "latin1")
    except UnicodeDecodeError:
        fail(source, ".npy header is not text.", member)
    m = _HEADER.fullmatch(text)
    if m is None:
        if "'|O'" in text or "'O'" in text:
            fail(source, "the array has dtype object (pickled Python objects); kerasnp never "
                         "loads pickles.", member)
        fail(source, f"malformed or non-numeric .npy header {text[:120].strip()!r}; expected "
                     "{'descr': '<f4', 'fortran_order': False, 'shape': (...)}.", member)
    descr = m.group("descr")
    if descr[1] == "O":
        fail(source, "the array has dtype object (pickled Python objects); kerasnp never loads "
                     "pickles.", member)
    if descr[1] not in _KINDS:
        fail(source, f"dtype {descr!r} is not allowed; expected float, int, unsigned int or "
                     "bool.", member)
    if descr[0] == ">" or (descr[0] == "=" and sys.byteorder != "little"):
        fail(source, f"dtype {descr!r} is big-endian; expected little-endian.", member)
    try:
        dtype = np.dtype(descr)
    except TypeError:
        fail(source, f"unknown dtype {descr!r}.", member)
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None:
        fail(source, f"dtype {descr!r} is not a plain numeric type.", member)
    if m.group("fortran") == "True":
        fail(source, "Fortran-ordered arrays are not written by kerasnp.", member)
    dims = [d.strip() for d in m.group("shape").split(",")]
    if dims and dims[-1] == "":
        dims.pop()
    if any(not d.isdigit() for d in dims) or len(dims) > MAX_NDIM:
        fail(source, f"bad shape ({m.group('shape')}) in .npy header.", member)
    shape = tuple(int(d) for d in dims)
    count = 1
    for d in shape:
        count *= d
    nbytes = count * dtype.itemsize
    header_bytes = 8 + width + hlen
    if header_bytes + nbytes != member_size:
        fail(source, f"the header declares shape {shape} of {dtype.name} ({nbytes} bytes of "
                     f"data) but the member holds {member_size - header_bytes} bytes of data.",
             member)
    return shape, dtype
