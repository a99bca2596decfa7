"""The dataset cache shared by the loaders: where files live, how they are fetched and checked.

Files live in `$KERASNP_HOME/datasets` (default `~/.kerasnp/datasets`; `<tempdir>/kerasnp/datasets`
when that is not writable). A download goes to a temp file beside its destination, is verified,
then renamed into place, so an interrupted or corrupt download never leaves a file in the cache.

Integrity: a loader either knows the file's published sha256 (`check_sha256`), or checks the file's
structure itself and then pins its digest in a `<file>.sha256` sidecar on first use
(`load_pinned`); later loads must match the pinned digest.
"""
import hashlib
import os
import tempfile
import urllib.request

TIMEOUT = 10  # seconds; an offline machine fails at name resolution, long before this
_CHUNK = 1 << 20


def cache_dir(subdir=None):
    """Return the directory datasets are cached in (optionally a sub-directory), creating it.

    `$KERASNP_HOME/datasets` when `KERASNP_HOME` is set, else `~/.kerasnp/datasets`; when that
    cannot be created or written, `<tempdir>/kerasnp/datasets`.
    """
    home = os.environ.get("KERASNP_HOME") or os.path.join(os.path.expanduser("~"), ".kerasnp")
    preferred = os.path.join(home, "datasets")
    try:
        os.makedirs(preferred, exist_ok=True)
        if not os.access(preferred, os.W_OK):
            raise PermissionError(preferred)
        root = preferred
    except OSError:
        root = os.path.join(tempfile.gettempdir(), "kerasnp", "datasets")
        os.makedirs(root, exist_ok=True)
    if subdir is None:
        return root
    path = os.path.join(root, subdir)
    os.makedirs(path, exist_ok=True)
    return path


def offline():
    """True when the environment sets `KERASNP_OFFLINE` to 1 / true / yes: never download."""
    return os.environ.get("KERASNP_OFFLINE", "").strip().lower() in ("1", "true", "yes")


def sha256(path):
    """The hex sha256 digest of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path, expected, what):
    """Raise ValueError unless the sha256 of `path` is `expected`; `what` names the file's kind."""
    got = sha256(path)
    if got != expected:
        raise ValueError(
            f"Checksum mismatch for '{path}': expected sha256 {expected}, received {got}. "
            f"The file is corrupt or not {what}; delete it to download it again.")


def load_pinned(path, what, parse):
    """Return `parse(path)`, checking `path` against the sha256 pinned beside it.

    With a `<path>.sha256` sidecar, the file's sha256 must match it (ValueError otherwise). Without
    one, the file is trusted once `parse` accepts its structure (`parse` raises ValueError for a
    malformed file), and its digest is then pinned in the sidecar, so a later change is caught.
    """
    sidecar = path + ".sha256"
    got = sha256(path)
    pinned = os.path.exists(sidecar)
    if pinned:
        with open(sidecar, encoding="ascii", errors="replace") as f:
            fields = f.read().split()
        expected = fields[0] if fields else "(nothing)"
        if got != expected:
            raise ValueError(
                f"Checksum mismatch for '{path}': expected sha256 {expected} (pinned in "
                f"'{sidecar}' when the file was first used), received {got}. The file changed or "
                f"is not {what}; delete both files to download it again.")
    data = parse(path)
    if not pinned:
        try:
            with open(sidecar, "w", encoding="ascii") as f:
                f.write(f"{got}  {os.path.basename(path)}\n")
        except OSError:  # a read-only cache still loads; it just cannot pin
            pass
    return data


def download(url, dest, verify=None):
    """Fetch `url` to a temp file beside `dest`, run `verify(tmp_path)`, then move it into place.

    Nothing is left behind when the transfer or the verification fails (the error propagates).
    """
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dest), suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=TIMEOUT) as resp:
            for chunk in iter(lambda: resp.read(_CHUNK), b""):
                out.write(chunk)
        if verify is not None:
            verify(tmp)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def fetch_missing(files, name, verify=None):
    """Make sure every `(path, url)` in `files` is cached, downloading the missing ones.

    Each download is checked with `verify(tmp_path, path)` (which raises ValueError for a bad
    file) before it is moved into the cache.

    Downloads are skipped under `KERASNP_OFFLINE=1` and stop at the first network failure (an
    offline machine fails fast, once). Raises FileNotFoundError naming every missing file's full
    path and origin URL when any is still missing. Returns the list of paths that were downloaded.
    """
    missing = [(path, url) for path, url in files if not os.path.exists(path)]
    for path, _ in missing:  # a digest pinned for a deleted file must not judge its replacement
        if os.path.exists(path + ".sha256"):
            os.remove(path + ".sha256")
    fetched = []
    reason = "KERASNP_OFFLINE=1 is set" if offline() else None
    for path, url in list(missing):
        if reason is not None:
            break
        try:
            check = None if verify is None else (lambda tmp, dest=path: verify(tmp, dest))
            download(url, path, check)
        except (OSError, ValueError) as e:  # URLError, timeouts, corrupt transfers alike
            reason = f"downloading {url} failed ({e})"
            break
        missing.remove((path, url))
        fetched.append(path)
    if missing:
        listing = "\n".join(f"  {path}  <-  {url}" for path, url in missing)
        raise FileNotFoundError(
            f"{name} is not available: {len(missing)} file(s) are missing from the cache and "
            f"{reason}. Download them and place them at these exact paths (path <- origin):\n"
            f"{listing}\nSet KERASNP_HOME to use another cache directory.")
    return fetched
