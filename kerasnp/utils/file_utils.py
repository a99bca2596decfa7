"""`get_file`: download a file once into the Keras cache (`~/.keras` or `$KERAS_HOME`), check its
hash, and extract tar/zip archives safely.

The download is written to a temporary file next to its target and renamed only once it is
complete and its hash matches, so an interrupted download never leaves a half file in the cache.
Archives are extracted member by member into a temporary folder renamed into place at the end:
absolute paths, `..` components, links, devices and archives that would unpack to more than
`MAX_EXTRACTED_BYTES` are refused with an error naming the member.
"""
import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile

__all__ = ["get_file"]

MAX_EXTRACTED_BYTES = 16 * 2**30       # refuse archives that unpack to more (zip/tar bombs)
MAX_MEMBERS = 1_000_000
_SCHEMES = ("http", "https", "ftp", "file")
_CHUNK = 1 << 20


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Download `origin` into the cache unless it is already there, and return its path.

    Args:
        fname: the file's name in the cache (default: the last part of `origin`'s path).
        origin: the URL (`http`, `https`, `ftp` or `file`).
        untar: deprecated, the same as `extract=True`.
        md5_hash: deprecated, the same as `file_hash` with `hash_algorithm="md5"`.
        file_hash: the expected sha256 or md5 hex digest; a cached file that does not match is
            downloaded again, a download that does not match is deleted and refused.
        cache_subdir: folder under the cache (an absolute path is used as it is).
        hash_algorithm: `"auto"` (sha256 for a 64-character hash, else md5), `"sha256"` or
            `"md5"`.
        extract: extract the archive into `<fname>_extracted` next to it and return that folder.
        archive_format: `"auto"` (tar then zip), `"tar"`, `"zip"`, or None (no extraction).
        cache_dir: the cache (default `$KERAS_HOME`, else `~/.keras`; `/tmp/.keras` when that
            is not writable).
        force_download: download even when the file is cached.

    Returns:
        The path of the file, or of the extracted folder with `extract=True`.

    Example:
        >>> import kerasnp as keras, pathlib, tempfile
        >>> src = pathlib.Path(tempfile.mkdtemp()) / "data.csv"
        >>> _ = src.write_text("a,b\\n1,2\\n")
        >>> path = keras.utils.get_file(origin=src.as_uri(), cache_dir=tempfile.mkdtemp())
        Downloading data from file:///...
        >>> open(path).read()
        'a,b\\n1,2\\n'
    """
    if not isinstance(origin, str) or not origin:
        raise ValueError(f"get_file needs origin, the URL to download. Received: origin={origin!r}")
    scheme = urllib.parse.urlparse(origin).scheme.lower()
    if scheme not in _SCHEMES:
        raise ValueError(f"get_file downloads {', '.join(_SCHEMES)} URLs. Received: "
                         f"origin={origin!r}")
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    if hash_algorithm not in ("auto", "sha256", "md5"):
        raise ValueError(f"hash_algorithm must be 'auto', 'sha256' or 'md5'. Received: "
                         f"hash_algorithm={hash_algorithm!r}")
    if archive_format not in ("auto", "tar", "zip", None):
        raise ValueError(f"archive_format must be 'auto', 'tar', 'zip' or None. Received: "
                         f"archive_format={archive_format!r}")
    extract = extract or untar
    if fname is None:
        fname = os.path.basename(urllib.parse.urlparse(origin).path)
        if not fname:
            raise ValueError(f"Cannot name the file from origin={origin!r}; pass fname.")
    fname = os.fspath(fname)
    datadir = os.path.join(_cache_dir(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    target = os.path.join(datadir, fname)

    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                    hash_algorithm):
        print(f"A local file was found, but it seems to be incomplete or outdated because the "
              f"{_algorithm(file_hash, hash_algorithm)} file hash does not match the original "
              "value of file_hash. We will re-download the data.")
        download = True
    if download:
        print(f"Downloading data from {origin}")
        _download(origin, target, file_hash, hash_algorithm)
    if not extract:
        return target
    out = os.path.join(datadir, f"{fname}_extracted")
    if download or not os.path.exists(out):
        extract_archive(target, out, archive_format)
    return out


def _cache_dir(cache_dir):
    if cache_dir is not None:
        return os.path.expanduser(os.fspath(cache_dir))
    base = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    try:
        os.makedirs(base, exist_ok=True)
        if os.access(base, os.W_OK):
            return base
    except OSError:
        pass
    return os.path.join(tempfile.gettempdir(), ".keras")


def _algorithm(file_hash, hash_algorithm):
    if hash_algorithm == "auto":
        return "sha256" if len(file_hash) == 64 else "md5"
    return hash_algorithm


def _hash_file(path, algorithm):
    h = hashlib.sha256() if algorithm == "sha256" else hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto"):
    """True when the file's sha256/md5 digest equals `file_hash`."""
    return _hash_file(fpath, _algorithm(file_hash, algorithm)) == str(file_hash).lower()


def _download(origin, target, file_hash, hash_algorithm):
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(origin) as response:
                    shutil.copyfileobj(response, out, _CHUNK)
            except urllib.error.HTTPError as err:
                raise OSError(f"URL fetch failure on {origin}: {err.code} -- {err.msg}") from None
            except urllib.error.URLError as err:
                raise OSError(f"URL fetch failure on {origin}: {err.reason}") from None
            out.flush()
            os.fsync(out.fileno())
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            raise ValueError(f"Incomplete or corrupted file detected. The "
                             f"{_algorithm(file_hash, hash_algorithm)} file hash does not match "
                             f"the provided value of {file_hash}. Received: origin={origin!r}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


# ----------------------------------------------------------------------------- archives
def extract_archive(path, out, archive_format="auto"):
    """Extract a tar or zip archive at `path` into the folder `out` (replaced atomically);
    False when it is neither (or `archive_format` is None)."""
    formats = ["tar", "zip"] if archive_format == "auto" else \
        [] if archive_format is None else [archive_format]
    for fmt in formats:
        if fmt == "tar" and tarfile.is_tarfile(path):
            members = _tar_members
        elif fmt == "zip" and zipfile.is_zipfile(path):
            members = _zip_members
        else:
            continue
        parent = os.path.dirname(os.path.abspath(out))
        tmp = tempfile.mkdtemp(prefix=".extract-", dir=parent)
        try:
            _write_members(members(path), tmp, path)
            if os.path.isdir(out):
                shutil.rmtree(out)
            os.replace(tmp, out)
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp)
        return True
    return False


def _safe_parts(name, archive):
    """The path components of a member name, refusing anything that leaves the folder."""
    norm = name.replace("\\", "/")
    parts = [p for p in norm.split("/") if p not in ("", ".")]
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or ".." in parts:
        raise ValueError(f"Refusing to extract {archive!r}: member {name!r} would be written "
                         "outside the extraction folder (absolute path or '..').")
    return parts


def _write_members(members, root, archive):
    total = count = 0
    for name, kind, opener in members:
        count += 1
        if count > MAX_MEMBERS:
            raise ValueError(f"Refusing to extract {archive!r}: more than {MAX_MEMBERS} members.")
        parts = _safe_parts(name, archive)
        if not parts:
            continue
        dest = os.path.join(root, *parts)
        if kind == "dir":
            os.makedirs(dest, exist_ok=True)
            continue
        if kind != "file":
            raise ValueError(f"Refusing to extract {archive!r}: member {name!r} is a {kind}, "
                             "not a file or folder (links could point outside the folder).")
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with opener() as src, open(dest, "wb") as out:
            for chunk in iter(lambda: src.read(_CHUNK), b""):
                total += len(chunk)                   # bytes actually written, not the header's
                if total > MAX_EXTRACTED_BYTES:
                    raise ValueError(f"Refusing to extract {archive!r}: it unpacks to more than "
                                     f"{MAX_EXTRACTED_BYTES} bytes.")
                out.write(chunk)


def _tar_members(path):
    with tarfile.open(path) as tar:
        for m in tar:
            kind = ("file" if m.isfile() else "dir" if m.isdir() else
                    "link" if m.issym() or m.islnk() else "device or special file")
            yield m.name, kind, (lambda m=m: tar.extractfile(m))


def _zip_members(path):
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            mode = (info.external_attr >> 16) & 0o170000
            kind = ("dir" if info.is_dir() else "link" if mode == 0o120000 else "file")
            yield info.filename, kind, (lambda info=info: zf.open(info))
