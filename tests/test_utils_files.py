"""keras.utils.get_file (local file:// URLs and a tiny local HTTP server, never the internet),
safe archive extraction, and the small tensor helpers (values checked with Keras 3.15)."""
import hashlib
import http.server
import inspect
import io
import os
import tarfile
import threading
import zipfile

import numpy as np
import pytest

import kerasnp as keras
from kerasnp.utils import file_utils, get_file


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "src" / "data.bin"
    path.parent.mkdir()
    path.write_bytes(b"hello kerasnp\n" * 100)
    return path


def test_signature_matches_keras():
    assert str(inspect.signature(get_file)) == (
        "(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None, "
        "cache_subdir='datasets', hash_algorithm='auto', extract=False, archive_format='auto', "
        "cache_dir=None, force_download=False)")


def test_download_into_cache_and_reuse(source, tmp_path):
    cache = tmp_path / "cache"
    path = get_file(origin=source.as_uri(), cache_dir=str(cache),
                    file_hash=_sha256(source.read_bytes()))
    assert path == str(cache / "datasets" / "data.bin")
    assert open(path, "rb").read() == source.read_bytes()
    source.write_bytes(b"changed")                     # cached: not downloaded again
    assert open(get_file(origin=source.as_uri(), cache_dir=str(cache)), "rb").read() != \
        b"changed"
    path = get_file(origin=source.as_uri(), cache_dir=str(cache), force_download=True)
    assert open(path, "rb").read() == b"changed"
    # a cached file whose hash no longer matches is downloaded again
    path = get_file("other.bin", source.as_uri(), cache_dir=str(cache),
                    cache_subdir="sub", file_hash=hashlib.md5(b"changed").hexdigest())
    assert path == str(cache / "sub" / "other.bin")


def test_keras_home_is_the_default_cache(source, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    path = get_file("x.bin", source.as_uri())
    assert path == str(tmp_path / "home" / "datasets" / "x.bin")


def test_bad_hash_leaves_nothing_in_the_cache(source, tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(ValueError, match="sha256 file hash does not match"):
        get_file(origin=source.as_uri(), cache_dir=str(cache), file_hash="0" * 64)
    assert os.listdir(cache / "datasets") == []         # no partial or temporary file


def test_http_download_and_fetch_failure(source, tmp_path):
    directory = str(source.parent)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=directory, **k)

        def log_message(self, *a):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/data.bin"
        path = get_file(origin=url, cache_dir=str(tmp_path / "c"))
        assert open(path, "rb").read() == source.read_bytes()
        with pytest.raises(OSError, match="URL fetch failure.*404"):
            get_file(origin=url.replace("data.bin", "missing.bin"),
                     cache_dir=str(tmp_path / "c"))
    finally:
        server.shutdown()
        server.server_close()


def test_argument_errors(source):
    with pytest.raises(ValueError, match="origin"):
        get_file("x")
    with pytest.raises(ValueError, match="Received: origin='javascript:x'"):
        get_file("x", "javascript:x")
    with pytest.raises(ValueError, match="hash_algorithm"):
        get_file("x", source.as_uri(), hash_algorithm="sha1")


# ----------------------------------------------------------------------------- archives
def _tar(path, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "sym":
                info.type, info.linkname = tarfile.SYMTYPE, data
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))


def test_extract_tar_and_zip(tmp_path):
    tgz = tmp_path / "a.tar.gz"
    _tar(tgz, [("pkg/one.txt", b"1", "file"), ("pkg/sub/two.txt", b"22", "file")])
    out = get_file(origin=tgz.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert out == str(tmp_path / "c" / "datasets" / "a.tar.gz_extracted")
    assert open(os.path.join(out, "pkg", "sub", "two.txt"), "rb").read() == b"22"
    zpath = tmp_path / "b.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("dir/three.txt", b"333")
    out = get_file(origin=zpath.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert open(os.path.join(out, "dir", "three.txt"), "rb").read() == b"333"


@pytest.mark.parametrize("name, data, kind, match", [
    ("../evil.txt", b"x", "file", "outside the extraction folder"),
    ("/abs/evil.txt", b"x", "file", "outside the extraction folder"),
    ("ok/../../evil.txt", b"x", "file", "outside the extraction folder"),
    ("link", "/etc/passwd", "sym", "is a link"),
])
def test_hostile_tar_members_are_refused(tmp_path, name, data, kind, match):
    tgz = tmp_path / "evil.tar.gz"
    _tar(tgz, [("fine.txt", b"ok", "file"), (name, data, kind)])
    with pytest.raises(ValueError, match=match):
        get_file(origin=tgz.as_uri(), extract=True, cache_dir=str(tmp_path / "c"))
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "c" / "datasets" / "evil.tar.gz_extracted").exists()
    assert [n for n in os.listdir(tmp_path / "c" / "datasets") if n.startswith(".")] == []


def test_hostile_zip_members_and_size_cap(tmp_path, monkeypatch):
    zpath = tmp_path / "evil.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        zf.writestr("../evil.txt", b"x")
    with pytest.raises(ValueError, match="outside the extraction folder"):
        file_utils.extract_archive(str(zpath), str(tmp_path / "out"))
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.bin", b"\0" * 100_000)
    monkeypatch.setattr(file_utils, "MAX_EXTRACTED_BYTES", 50_000)
    with pytest.raises(ValueError, match="more than 50000 bytes"):
        file_utils.extract_archive(str(bomb), str(tmp_path / "out2"))
    assert not (tmp_path / "out2").exists()


# ----------------------------------------------------------------------------- tensor helpers
def test_standardize_dtype_as_keras():
    sd = keras.utils.standardize_dtype
    cases = {None: "float32", "int": "int32", float: "float32", int: "int32",
             np.float32: "float32", np.dtype("int64"): "int64", bool: "bool", str: "string",
             "bfloat16": "bfloat16", "uint8": "uint8", "complex64": "complex64"}
    for given, expected in cases.items():
        assert sd(given) == expected, given
    for bad in ("float", "str", object):
        with pytest.raises(ValueError, match="Invalid dtype"):
            sd(bad)


def test_is_keras_tensor_and_get_source_inputs():
    a, b = keras.Input((2,)), keras.Input((2,))
    c = keras.layers.Add()([a, b])
    d = keras.layers.Add()([c, keras.layers.Dense(2)(a)])
    assert keras.utils.is_keras_tensor(a) and keras.utils.is_keras_tensor(d)
    assert not keras.utils.is_keras_tensor(np.ones(2))
    assert keras.utils.get_source_inputs(d) == [a, b]
    assert keras.utils.get_source_inputs(a) == [a]
    arr = np.ones(2)
    assert keras.utils.get_source_inputs(arr) is arr


def test_deprecated_untar_and_md5_hash(tmp_path):
    tgz = tmp_path / "d.tar.gz"
    _tar(tgz, [("x.txt", b"x", "file")])
    md5 = hashlib.md5(tgz.read_bytes()).hexdigest()
    out = get_file("d.tar.gz", tgz.as_uri(), untar=True, md5_hash=md5,
                   cache_dir=str(tmp_path / "c"))
    assert open(os.path.join(out, "x.txt"), "rb").read() == b"x"
    os.remove(os.path.join(out, "x.txt"))          # cached and extracted: left as it is
    assert get_file("d.tar.gz", tgz.as_uri(), extract=True, cache_dir=str(tmp_path / "c")) == out
    assert not os.path.exists(os.path.join(out, "x.txt"))
    with pytest.raises(ValueError, match="md5 file hash does not match"):
        get_file("e.tar.gz", tgz.as_uri(), md5_hash="0" * 32, cache_dir=str(tmp_path / "c"))
