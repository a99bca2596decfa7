"""IMDB and Reuters loaders on fixtures written here (never the network), and the restricted
reader of object-array `.npz` files: lists of ints come back equal; any other pickle content is
refused without running it."""
import hashlib
import io
import json
import os
import pickle
import shutil
import zipfile

import numpy as np
import pytest

from kerasnp.datasets import _cache, _safe_npz, _safe_pickle, imdb, reuters
from kerasnp.datasets._safe_npz import load_npz, read_npy


def _objects(rows):
    out = np.empty(len(rows), dtype=object)
    for i, r in enumerate(rows):
        out[i] = r
    return out


def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def _npy(payload, shape):
    """A `.npy` member holding `payload` as the pickle of an object array of `shape`."""
    header = "{'descr': '|O', 'fortran_order': False, 'shape': %r, }" % (shape,)
    header = header.ljust(118) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + payload


def _npz(path, **members):
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in members.items():
            zf.writestr(f"{name}.npy", raw)


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An empty dataset cache, offline: no test can reach the network."""
    monkeypatch.setenv("KERASNP_HOME", str(tmp_path))
    monkeypatch.setenv("KERASNP_OFFLINE", "1")
    monkeypatch.setattr(_cache, "download", _no_network)
    return tmp_path / "datasets"


def _no_network(*args, **kwargs):
    raise AssertionError("a test tried to download")


# -- the restricted reader --------------------------------------------------------------------
ROWS = [[1, 2, 3], [], [7], [2 ** 40, -5, 70000, 300, 65535, 255, 256], list(range(2500))]


def test_np_save_of_an_object_array_writes_a_pickle(tmp_path):
    buf = io.BytesIO()
    np.save(buf, _objects(ROWS), allow_pickle=True)
    raw = buf.getvalue()
    assert b"'descr': '|O'" in raw and b"\x80" in raw and b"_reconstruct" in raw


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_object_arrays_of_int_lists_read_back_equal(protocol):
    out = read_npy(_npy(pickle.dumps(_objects(ROWS), protocol=protocol), (len(ROWS),)), "m")
    assert out.dtype == object and out.shape == (len(ROWS),)
    assert [list(r) for r in out] == ROWS and all(type(r) is list for r in out)


def test_npz_written_by_np_savez_reads_back(tmp_path):
    path = tmp_path / "f.npz"
    np.savez(path, x=_objects(ROWS), y=np.array([0, 1, 0, 1, 1]),
             f=np.arange(6, dtype=">f4").reshape(2, 3))
    got = load_npz(str(path), ["x", "y", "f"])
    assert [list(r) for r in got["x"]] == ROWS
    np.testing.assert_array_equal(got["y"], [0, 1, 0, 1, 1])
    np.testing.assert_array_equal(got["f"], np.arange(6).reshape(2, 3))


def test_python2_style_stream_is_read():
    # protocol 2 as Python 2 wrote it: GLOBAL numpy.core.multiarray, str as SHORT_BINSTRING
    s = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85"
         b"U\x01b\x87Rq\x03(K\x01K\x03\x85cnumpy\ndtype\nU\x02O8K\x00K\x01\x87R(K\x03U\x01|NNNJ"
         b"\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89]q\x04(]q\x05(K\x01M\x2c\x01e]q\x06K\x07a"
         b"h\x05etb.")
    out = read_npy(_npy(s, (3,)), "py2")
    assert [list(r) for r in out] == [[1, 300], [7], [1, 300]]


def _refused(payload, match, shape=(1,)):
    with pytest.raises(ValueError, match=match) as err:
        read_npy(_npy(payload, shape), "'evil.npz' member 'x_train.npy'")
    assert "x_train.npy" in str(err.value)
    return str(err.value)


def test_a_global_call_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    payload = (b"\x80\x02cos\nsystem\nX" + len(f"touch {marker}").to_bytes(4, "little") +
               f"touch {marker}".encode() + b"\x85R.")
    msg = _refused(payload, r"os\.system.*only lists of ints are accepted")
    assert "nothing in it was run" in msg
    assert not marker.exists()


class Evil:
    def __reduce__(self):
        return (print, ("ran",))


@pytest.mark.parametrize("obj, match", [
    (_objects([[1.5, 2.0]]), r"opcode b'G'"),
    (_objects([["a", "b"]]), "row 0 is not a list of ints"),
    (_objects([[[1], [2]]]), "row 0 is not a list of ints"),
    (_objects([[True, 1]]), "row 0 is not a list of ints"),
    (_objects([np.array([1, 2])]), "not a NumPy array reconstructor|row 0|dtype"),
    (_objects([{"a": 1}]), "opcode"),
    (_objects([Evil()]), r"builtins\.print"),
    (_objects([(1, 2)]), "row 0 is not a list of ints"),
    (_objects([[2 ** 70]]), "at most 8"),
    (_objects([[1], "x"]), "row 1"),
])
def test_anything_but_lists_of_ints_is_refused(obj, match, capsys):
    _refused(pickle.dumps(obj, protocol=4), match, shape=obj.shape)
    assert "ran" not in capsys.readouterr().out


def test_other_arrays_and_streams_are_refused():
    _refused(pickle.dumps(np.zeros((2, 2)), protocol=4), "dtype")
    _refused(pickle.dumps(_objects([[1], [2]]).reshape(2, 1), protocol=4), "1-D array")
    _refused(pickle.dumps(_objects([[1]]), protocol=4)[:-5], "truncated")
    _refused(b"\x80\x04G?\xf0\x00\x00\x00\x00\x00\x00.", r"opcode b'G'")       # BINFLOAT
    _refused(b"\x80\x04K\x01.", "does not hold one array")


def test_size_limits_stop_hostile_amplification(monkeypatch):
    # one list referenced 1,000 times through the memo: 2 bytes per copy
    s = (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R"
         b"(K\x01M\xe8\x03\x85cnumpy\ndtype\nU\x02O8K\x00K\x01\x87R(K\x03U\x01|NNNJ\xff\xff"
         b"\xff\xffJ\xff\xff\xff\xffK?tb\x89](]q\x01(" + b"K\x01" * 50 + b"e" +
         b"h\x01" * 999 + b"etb.")
    assert len(read_npy(_npy(s, (1000,)), "ok")) == 1000
    monkeypatch.setattr(_safe_pickle, "MAX_ITEMS", 10_000)
    _refused(s, "more than 10000 items", shape=(1000,))


def test_member_limits_and_missing_members(tmp_path, monkeypatch):
    path = tmp_path / "f.npz"
    np.savez(path, x=_objects(ROWS))
    with pytest.raises(ValueError, match=r"member 'y\.npy': missing"):
        load_npz(str(path), ["y"])
    monkeypatch.setattr(_safe_npz, "MAX_MEMBER_BYTES", 100)
    with pytest.raises(ValueError, match=r"x\.npy.*limit is 100"):
        load_npz(str(path), ["x"])
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_npz(str(tmp_path / "bad.npz"), ["x"])


# -- IMDB -------------------------------------------------------------------------------------
def _imdb_fixture(home, monkeypatch, name="imdb.npz"):
    rng = np.random.default_rng(0)
    train = [list(rng.integers(1, 40, rng.integers(1, 12))) for _ in range(30)]
    test = [list(rng.integers(1, 40, rng.integers(1, 12))) for _ in range(20)]
    train = [[int(w) for w in r] for r in train]
    test = [[int(w) for w in r] for r in test]
    ytr, yte = rng.integers(0, 2, 30), rng.integers(0, 2, 20)
    home.mkdir(parents=True, exist_ok=True)
    path = home / name
    np.savez(path, x_train=_objects(train), y_train=ytr, x_test=_objects(test), y_test=yte)
    monkeypatch.setattr(imdb, "_SHA256", _sha256(path))
    return train, ytr, test, yte


def _keras_reference(train, ytr, test, yte, num_words=None, skip_top=0, maxlen=None, seed=113,
                     start_char=1, oov_char=2, index_from=3):
    """Keras's algorithm, written out on the fixture's lists."""
    rng = np.random.RandomState(seed)
    out = []
    for x, y in ((train, ytr), (test, yte)):
        idx = np.arange(len(x))
        rng.shuffle(idx)
        x = [[start_char] + [w + index_from for w in x[i]] for i in idx]
        y = y[idx]
        if maxlen:
            keep = [i for i, r in enumerate(x) if len(r) < maxlen]
            x, y = [x[i] for i in keep], y[keep]
        out.append((x, y))
    xs = out[0][0] + out[1][0]
    num_words = num_words or max(max(r) for r in xs)
    xs = [[w if skip_top <= w < num_words else oov_char for w in r] for r in xs]
    n = len(out[0][0])
    return (xs[:n], out[0][1]), (xs[n:], out[1][1])


@pytest.mark.parametrize("kwargs", [{}, dict(num_words=20, skip_top=4), dict(maxlen=8, seed=7),
                                    dict(start_char=1, oov_char=2, index_from=0)])
def test_imdb_matches_keras_on_a_fixture(home, monkeypatch, kwargs):
    data = _imdb_fixture(home, monkeypatch)
    (xtr, ytr), (xte, yte) = imdb.load_data(**kwargs)
    (rtr, rytr), (rte, ryte) = _keras_reference(*data, **kwargs)
    assert xtr.dtype == object and [list(r) for r in xtr] == rtr
    assert [list(r) for r in xte] == rte
    np.testing.assert_array_equal(ytr, rytr)
    np.testing.assert_array_equal(yte, ryte)


def test_imdb_oov_none_drops_and_maxlen_too_small(home, monkeypatch):
    _imdb_fixture(home, monkeypatch)
    (xtr, _), _ = imdb.load_data(num_words=10, oov_char=None)
    assert all(w < 10 for r in xtr for w in r)
    with pytest.raises(ValueError, match="maxlen=1"):
        imdb.load_data(maxlen=1)


def test_offline_without_the_file_is_a_clear_error(home):
    with pytest.raises(FileNotFoundError, match=r"(?s)KERASNP_OFFLINE=1.*imdb\.npz.*tf-keras-datasets"):
        imdb.load_data()
    with pytest.raises(FileNotFoundError, match="reuters_word_index.json"):
        reuters.get_word_index()


def test_download_is_verified_then_cached(home, monkeypatch, tmp_path):
    src = tmp_path / "origin.npz"
    np.savez(src, x_train=_objects([[1, 2]]), y_train=np.array([1]),
             x_test=_objects([[3]]), y_test=np.array([0]))
    calls = []

    def fake_download(url, dest, verify=None):
        calls.append(url)
        tmp = dest + ".part"
        shutil.copy(src, tmp)
        try:
            if verify is not None:
                verify(tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    monkeypatch.delenv("KERASNP_OFFLINE")
    monkeypatch.setattr(_cache, "download", fake_download)
    with pytest.raises(FileNotFoundError, match="Checksum mismatch"):
        imdb.load_data()                                   # Keras's digest: the fake is refused
    assert not (home / "imdb.npz").exists()
    monkeypatch.setattr(imdb, "_SHA256", _sha256(src))
    (x, y), _ = imdb.load_data(start_char=None, index_from=0)
    assert [list(r) for r in x] == [[1, 2]] and calls[-1].endswith("/imdb.npz")
    imdb.load_data()
    assert len(calls) == 2                                   # cached: no second download
    (home / "imdb.npz").write_bytes(b"tampered")
    with pytest.raises(ValueError, match="Checksum mismatch"):
        imdb.load_data()


def test_word_index_is_parsed_with_json(home, monkeypatch):
    home.mkdir(parents=True)
    path = home / "imdb_word_index.json"
    path.write_text(json.dumps({"the": 1, "film": 2}))
    monkeypatch.setattr(imdb, "_INDEX_MD5", hashlib.md5(path.read_bytes()).hexdigest())
    assert imdb.get_word_index() == {"the": 1, "film": 2}
    path.write_text(json.dumps(["the", 1]))
    monkeypatch.setattr(imdb, "_INDEX_MD5", hashlib.md5(path.read_bytes()).hexdigest())
    with pytest.raises(ValueError, match="not a word index"):
        imdb.get_word_index()


# -- Reuters ----------------------------------------------------------------------------------
def test_reuters_matches_keras_on_a_fixture(home, monkeypatch):
    rng = np.random.default_rng(1)
    xs = [[int(w) for w in rng.integers(1, 30, rng.integers(1, 9))] for _ in range(40)]
    ys = rng.integers(0, 46, 40)
    home.mkdir(parents=True)
    np.savez(home / "reuters.npz", x=_objects(xs), y=ys)
    monkeypatch.setattr(reuters, "_SHA256", _sha256(home / "reuters.npz"))
    (xtr, ytr), (xte, yte) = reuters.load_data(num_words=15, test_split=0.25, maxlen=7)
    idx = np.arange(40)
    np.random.RandomState(113).shuffle(idx)
    ref = [[1] + [w + 3 for w in xs[i]] for i in idx]
    keep = [k for k, r in enumerate(ref) if len(r) < 7]
    ref, labels = [[w if w < 15 else 2 for w in ref[k]] for k in keep], ys[idx][keep]
    cut = int(len(ref) * 0.75)
    assert [list(r) for r in xtr] == ref[:cut] and [list(r) for r in xte] == ref[cut:]
    np.testing.assert_array_equal(np.concatenate([ytr, yte]), labels)
    assert len(reuters.get_label_names()) == 46 and reuters.get_label_names()[3] == "earn"


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_words=0), "num_words"), (dict(skip_top=-1), "skip_top"),
    (dict(maxlen=2.5), "maxlen"), (dict(index_from=-3), "index_from"),
    (dict(test_split=1.5), "test_split"), (dict(seed="x"), "seed"),
])
def test_argument_errors(home, kwargs, match):
    with pytest.raises(ValueError, match=match):
        reuters.load_data(**kwargs)
    if "test_split" not in kwargs:
        with pytest.raises(ValueError, match=match):
            imdb.load_data(**kwargs)
