"""Model files from strangers: every damaged, foreign or malicious file raises ModelFileError with
no side effect (no file created, nothing imported, bounded memory and no hang), naming what is
wrong.

"Bounded" is checked deterministically: tracemalloc's peak of Python-side allocations (a zip bomb
or a 32 GiB header would blow it) and an alarm that fails a test that hangs. No wall-clock speed
threshold: the machines are shared and noisy."""
import hashlib
import io
import json
import os
import contextlib
import signal
import sys
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import kerasnp as keras
from kerasnp.saving import ModelFileError, checks


def _tiny(path):
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="dense")])
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.save(path)
    return model


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(path, bytes, predictions) of a small valid model file; loading it once also warms up
    every import the loader needs, so later sys.modules comparisons are exact."""
    path = tmp_path_factory.mktemp("tiny") / "tiny.kerasnp"
    model = _tiny(path)
    x = np.linspace(-1, 1, 8, dtype="float32").reshape(4, 2)
    keras.models.load_model(path).predict(x, verbose=0)
    for bad in (b"", b"junk", b"PK\x03\x04"):
        (path.parent / "warm").write_bytes(bad)
        with pytest.raises(ModelFileError):
            keras.models.load_model(path.parent / "warm")
    os.remove(path.parent / "warm")
    return path, path.read_bytes(), model.predict(x, verbose=0), x



MEMORY_BOUND = 64 * 2**20       # bytes a refused load may allocate at its peak
HANG_GUARD = 120                # seconds after which a load counts as hung


@contextlib.contextmanager
def _bounded(memory=MEMORY_BOUND, seconds=HANG_GUARD):
    """Fail if the block allocates more than `memory` at its peak or runs into the hang guard."""
    def hung(signum, frame):
        raise AssertionError(f"still running after {seconds} s: the loader hangs")
    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
        assert peak < memory, f"peak allocation {peak / 2**20:.0f} MiB"
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)

def _refused(path, *fragments, loader=None):
    """Load `path` expecting ModelFileError; check the message and that nothing happened."""
    directory = os.path.dirname(os.path.abspath(path))
    files = sorted(os.listdir(directory))
    modules = set(sys.modules)
    with _bounded(), pytest.raises(ModelFileError) as err:
        (loader or keras.models.load_model)(path)
    assert sorted(os.listdir(directory)) == files, "a file was created"
    assert set(sys.modules) - modules == set(), "something was imported"
    msg = str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__, "chained traceback"
    assert os.fspath(path) in msg
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"
    return msg


def _members(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return [(i.filename, zf.read(i)) for i in zf.infolist()]


def _write(path, members, fix_checksums=True, compress=zipfile.ZIP_STORED):
    """Write `[(name, bytes)]` as a zip; with `fix_checksums`, metadata.json's table is updated
    so that the deeper checks (not the checksum) are what refuses the file."""
    members = list(members)
    if fix_checksums:
        for k, (name, data) in enumerate(members):
            if name == "metadata.json" and data.startswith(b"{"):
                meta = json.loads(data)
                meta["members"] = {n: hashlib.sha256(d).hexdigest() for n, d in members
                                   if n != "metadata.json"}
                members[k] = (name, json.dumps(meta).encode())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                 # zipfile warns on duplicate names
        with zipfile.ZipFile(path, "w", compress) as zf:
            for name, data in members:
                zf.writestr(name, data)
    return path


def _replace(members, name, data):
    return [(n, data if n == name else d) for n, d in members]


def _edit_config(members, edit):
    cfg = json.loads(dict(members)["config.json"])
    edit(cfg)
    return _replace(members, "config.json", json.dumps(cfg).encode())


# ----------------------------------------------------------------------------- damaged files
def test_every_truncation_is_refused(tiny, tmp_path):
    _, data, _, _ = tiny
    assert len(data) < 4000                              # keep the loop fast
    path = tmp_path / "cut.kerasnp"
    modules = set(sys.modules)
    for n in range(len(data)):
        path.write_bytes(data[:n])
        with _bounded(), pytest.raises(ModelFileError) as err:
            keras.models.load_model(path)
        msg = str(err.value)
        assert "cut.kerasnp" in msg
        if n == 0:
            assert "empty" in msg
        elif n >= 4:
            assert "truncated" in msg or "damaged" in msg, (n, msg)
    assert set(sys.modules) == modules
    assert os.listdir(tmp_path) == ["cut.kerasnp"]


@settings(max_examples=300, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_byte_flips_are_refused_or_harmless(tiny, tmp_path, data):
    path, original, want, x = tiny
    flips = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1),
                                         st.integers(1, 255)), min_size=1, max_size=3))
    damaged = bytearray(original)
    for pos, mask in flips:
        damaged[pos] ^= mask
    target = tmp_path / "flip.kerasnp"
    target.write_bytes(bytes(damaged))
    try:
        model = keras.models.load_model(target)
    except ModelFileError as err:
        assert "flip.kerasnp" in str(err)
        return
    # Flips in bytes nothing reads (zip timestamps, metadata text) may leave the model intact;
    # the checksums guarantee it then is exactly the saved one.
    np.testing.assert_array_equal(model.predict(x, verbose=0), want)


def test_altered_member_fails_its_checksum(tiny, tmp_path):
    members = _members(tiny[1])
    w = np.lib.format.read_array(io.BytesIO(dict(members)["weights/00000.npy"]))
    buf = io.BytesIO()
    np.save(buf, w + 1)
    path = _write(tmp_path / "m.kerasnp", _replace(members, "weights/00000.npy",
                                                   buf.getvalue()), fix_checksums=False)
    _refused(path, "weights/00000.npy", "checksum")


# ----------------------------------------------------------------------------- arrays
def test_object_dtype_member_is_refused(tiny, tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}, os.getcwd], dtype=object), allow_pickle=True)
    path = _write(tmp_path / "m.kerasnp", _replace(_members(tiny[1]), "weights/00000.npy",
                                                   buf.getvalue()))
    assert "pickle" not in sys.modules or True
    _refused(path, "weights/00000.npy", "object", "pickle")


def _npy(header_dict_text, payload=b"", version=1):
    header = header_dict_text.encode("latin1")
    pad = 64 - (10 + len(header) + 1) % 64
    header += b" " * pad + b"\n"
    return b"\x93NUMPY" + bytes([version, 0]) + len(header).to_bytes(2, "little") + header \
        + payload


def test_32_gib_shape_header_is_refused_before_allocating(tiny, tmp_path):
    huge = _npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8589934592,), }", b"\0" * 16)
    path = _write(tmp_path / "m.kerasnp", _replace(_members(tiny[1]), "weights/00000.npy", huge))
    _refused(path, "weights/00000.npy", "(8589934592,)", "34359738368 bytes")


@pytest.mark.parametrize("header, fragment", [
    ("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 2), }", "big-endian"),
    ("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 2), }", "not allowed"),
    ("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", "Fortran"),
    ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", "malformed"),
    ("__import__('os').system('echo hi')", "malformed"),
])
def test_bad_npy_headers_are_refused(tiny, tmp_path, header, fragment):
    path = _write(tmp_path / "m.kerasnp",
                  _replace(_members(tiny[1]), "weights/00000.npy", _npy(header, b"\0" * 16)))
    _refused(path, "weights/00000.npy", fragment)


def test_weight_shape_disagreeing_with_config_is_refused(tiny, tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.ones((3, 2), "float32"))
    path = _write(tmp_path / "m.kerasnp",
                  _replace(_members(tiny[1]), "weights/00000.npy", buf.getvalue()))
    _refused(path, "weights/00000.npy", "layer 'dense' weight 'kernel'", "shape (3, 2)",
             "needs shape (2, 2)")


def test_config_implying_huge_weights_is_refused_before_allocating(tiny, tmp_path):
    def edit(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = 10**9
    path = _write(tmp_path / "m.kerasnp", _edit_config(_members(tiny[1]), edit))
    _refused(path, "config.json", "layer 'dense'", "weight 'kernel'", "refusing to allocate")


def test_config_with_wider_weight_dtype_is_refused_before_allocating(tiny, tmp_path):
    def edit(cfg):          # same shapes, 8x the bytes: the budget counts bytes, not values
        cfg["config"]["layers"][1]["config"]["dtype"] = "complex256"
    path = _write(tmp_path / "m.kerasnp", _edit_config(_members(tiny[1]), edit))
    _refused(path, "config.json", "weight 'kernel'", "(128 bytes)", "24 bytes in all",
             "refusing to allocate")


# ----------------------------------------------------------------------------- zip structure
@pytest.mark.parametrize("name, fragment", [
    ("../evil.json", "'..'"), ("weights/../../x.npy", "'..'"), ("/etc/passwd", "absolute"),
    ("C:/x.json", "absolute"), ("weights\\00000.npy", "backslash"), ("run.py", "unexpected")])
def test_bad_member_names_are_refused(tiny, tmp_path, name, fragment):
    path = _write(tmp_path / "m.kerasnp", _members(tiny[1]) + [(name, b"{}")])
    _refused(path, name, fragment)


def test_duplicate_members_are_refused(tiny, tmp_path):
    members = _members(tiny[1])
    path = _write(tmp_path / "m.kerasnp", members + [("config.json", b"{}")],
                  fix_checksums=False)
    _refused(path, "config.json", "twice")


def test_zip_bomb_member_is_refused_before_decompressing(tiny, tmp_path):
    path = tmp_path / "bomb.kerasnp"
    _write(path, [(n, d) for n, d in _members(tiny[1]) if n != "weights/00000.npy"])
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("weights/00000.npy", "w", force_zip64=True) as fp:
            chunk = bytes(2**20)
            for _ in range(64):
                fp.write(chunk)
    assert os.path.getsize(path) < 2**20
    _refused(path, "weights/00000.npy", "compression ratio", "zip bomb")


def test_too_many_members_and_unlisted_members(tiny, tmp_path, monkeypatch):
    members = _members(tiny[1])
    monkeypatch.setattr(checks, "MAX_MEMBERS", 3)
    _refused(_write(tmp_path / "a.kerasnp", members), "members; at most 3")
    monkeypatch.undo()
    extra = members + [("weights/00099.npy", dict(members)["weights/00000.npy"])]
    _refused(_write(tmp_path / "b.kerasnp", extra, fix_checksums=False), "not listed")


# ----------------------------------------------------------------------------- configs
@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "subprocess.Popen",
                                  "__import__", "numpy.load"])
def test_class_names_are_never_imported(tiny, tmp_path, name):
    def edit(cfg):
        cfg["config"]["layers"][1]["class_name"] = name
        cfg["config"]["layers"][1]["config"] = {"command": "touch pwned"}
    path = _write(tmp_path / "m.kerasnp", _edit_config(_members(tiny[1]), edit))
    _refused(path, "config.json", f"unknown layer class '{name}'", "never imports")
    assert not (tmp_path / "pwned").exists()


def test_hostile_compile_config_is_refused(tiny, tmp_path):
    def edit(cfg):
        cfg["compile_config"]["loss"] = {"class_name": "os.system", "config": {}}
    path = _write(tmp_path / "m.kerasnp", _edit_config(_members(tiny[1]), edit))
    _refused(path, "config.json", "compile_config", "os.system")


def test_hostile_top_level_class_is_refused(tiny, tmp_path):
    def edit(cfg):
        cfg["class_name"] = "builtins.exec"
    path = _write(tmp_path / "m.kerasnp", _edit_config(_members(tiny[1]), edit))
    _refused(path, "unknown layer class 'builtins.exec'")


@pytest.mark.parametrize("member", ["config.json", "metadata.json", "state.json"])
def test_json_nested_10000_deep_is_refused(tiny, tmp_path, member):
    deep = b"[" * 10_000 + b"]" * 10_000
    path = _write(tmp_path / "m.kerasnp", _replace(_members(tiny[1]), member, deep))
    _refused(path, member, "nested 10000 levels")


def test_bad_json_and_bad_values_are_refused(tiny, tmp_path):
    members = _members(tiny[1])
    _refused(_write(tmp_path / "a.kerasnp", _replace(members, "config.json", b"{not json")),
             "config.json", "invalid JSON")

    def bad_inbound(cfg):
        cfg["config"]["layers"][1]["config"]["units"] = "many"
    _refused(_write(tmp_path / "b.kerasnp", _edit_config(members, bad_inbound)),
             "config.json", "dense")

    state = json.loads(dict(members)["state.json"])
    state["rng"][0][1] = {"bit_generator": "MT19937", "state": {"key": [1], "pos": -5}}
    _refused(_write(tmp_path / "c.kerasnp", _replace(members, "state.json",
                                                     json.dumps(state).encode())),
             "state.json", "invalid random state")


def test_functional_graph_with_bad_node_ids_is_refused(tmp_path):
    x = keras.Input((3,))
    keras.Model(x, keras.layers.Dense(2, name="d")(x)).save(tmp_path / "f.kerasnp")
    members = _members((tmp_path / "f.kerasnp").read_bytes())

    def edit(cfg):
        cfg["config"]["layers"][1]["inbound"] = [5]
    _refused(_write(tmp_path / "g.kerasnp", _edit_config(members, edit)), "inbound")


def test_newer_format_version_is_refused(tiny, tmp_path):
    members = _members(tiny[1])
    meta = json.loads(dict(members)["metadata.json"])
    meta["format_version"] = 99
    path = _write(tmp_path / "m.kerasnp", _replace(members, "metadata.json",
                                                   json.dumps(meta).encode()))
    _refused(path, "format version 99", "Upgrade")


# ----------------------------------------------------------------------------- foreign files
def test_keras_dot_keras_file_goes_to_the_keras_reader(tmp_path):
    """A Keras 3 zip is recognised by its content and read as Keras's format (whose own hostile
    files are in test_saving_hostile_keras.py); a config without layers is refused there."""
    meta = json.dumps({"keras_version": "3.5.0", "date_saved": "2024-08-01@10:00:00"}).encode()
    config = json.dumps({"module": "keras", "class_name": "Sequential", "config": {}}).encode()
    path = _write(tmp_path / "model.keras", [("metadata.json", meta), ("config.json", config),
                                             ("model.weights.h5", b"\x89HDF\r\n\x1a\n" + bytes(64))],
                  fix_checksums=False)
    _refused(path, "config.json", "Sequential", "'layers' list")
    with pytest.raises(ModelFileError, match="Keras '.keras' file.*3.5.0.*load_model"):
        keras.saving.load_into(keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)]),
                               path)


def test_hdf5_file_is_recognised(tmp_path):
    path = tmp_path / "model.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(500))
    _refused(path, "HDF5 file")


def test_random_bytes_and_other_formats(tmp_path):
    junk = tmp_path / "junk.kerasnp"
    junk.write_bytes(np.random.default_rng(0).bytes(3000))
    _refused(junk, "not a kerasnp model file", "not a zip archive")
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.ones(3))
    _refused(npz, "'.npz' archive")
    _refused(tmp_path / "missing.kerasnp", "no such file")
    _refused(tmp_path, "directory")
    os.mkfifo(tmp_path / "pipe.kerasnp")                 # opening it would block forever
    _refused(tmp_path / "pipe.kerasnp", "not a regular file")


def test_weights_file_given_to_load_model(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.save_weights(tmp_path / "w.weights.npz")
    _refused(tmp_path / "w.weights.npz", "kerasnp-weights")


def test_hostile_weights_file_for_load_weights(tiny, tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, name="dense")])
    model.save_weights(tmp_path / "w.weights.npz")
    before = model.get_weights()
    members = _members((tmp_path / "w.weights.npz").read_bytes())
    buf = io.BytesIO()
    np.save(buf, np.array([None], dtype=object), allow_pickle=True)
    bad = _write(tmp_path / "bad.weights.npz", _replace(members, "weights/00001.npy",
                                                        buf.getvalue()))
    _refused(bad, "weights/00001.npy", "object", loader=model.load_weights)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_model_from_json_hostile_strings():
    with pytest.raises(ModelFileError, match="nested 5000 levels"):
        keras.models.model_from_json("[" * 5000 + "]" * 5000)
    with pytest.raises(ModelFileError, match="unknown layer class 'os.system'"):
        keras.models.model_from_json(json.dumps({"class_name": "os.system", "config": {}}))
    big = {"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"shape": [10**6]}},
        {"class_name": "Dense", "config": {"units": 10**6}}]}}
    with _bounded(), pytest.raises(ModelFileError, match="refusing to allocate"):
        keras.models.model_from_json(json.dumps(big))


# ----------------------------------------------------------------------------- JSON scan cost
ESCAPED_QUOTES = b'{"a": "' + b'\\"' * (2**19)          # 1 MiB of \" in a string never closed


def test_escaped_quote_metadata_is_refused_in_bounded_time(tiny, tmp_path):
    """The depth scan is linear: a regex over strings re-scanned the rest of the file from each
    escaped quote (48 KB took 10-30 s; this 1 MiB file would take hours)."""
    path = _write(tmp_path / "q.kerasnp", _replace(_members(tiny[1]), "metadata.json",
                                                   ESCAPED_QUOTES), fix_checksums=False)
    _refused(path, "metadata.json", "invalid JSON")


def test_escaped_quote_model_json_is_refused_in_bounded_time():
    with _bounded(), pytest.raises(ModelFileError, match="invalid JSON"):
        keras.models.model_from_json(ESCAPED_QUOTES.decode())


@pytest.mark.parametrize("text, depth", [
    (b'[]', 1), (b'{"a": [[1], {"b": []}]}', 4), (b'"[[[["', 0), (b'["]]]]"]', 1),
    (b'["\\"[[", ["\\\\"], [[]]]', 3), (b'["\\\\\\"[["]', 1), (b'[1, "\\\\", [2]]', 2),
    (b'{"k\\\\\\\\": [[[]]]}', 4), (b'["unterminated [[[', 1), (b'', 0)])
def test_json_depth_ignores_brackets_in_strings(text, depth, monkeypatch):
    assert checks.json_depth(text) == depth
    for chunk in (1, 2, 3, 5):                 # state carried across scan chunks
        monkeypatch.setattr(checks, "_SCAN_CHUNK", chunk)
        assert checks.json_depth(text) == depth, chunk


@settings(max_examples=200, derandomize=True, deadline=None)
@given(value=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text("[]{}\"\\ab", max_size=6),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text("[]{}\"\\ab", max_size=4), inner, max_size=3), max_leaves=30))
def test_json_depth_matches_the_parsed_nesting(value):
    def nesting(v):
        if isinstance(v, list):
            return 1 + max(map(nesting, v), default=0)
        if isinstance(v, dict):
            return 1 + max(map(nesting, v.values()), default=0)
        return 0
    data = json.dumps(value).encode()
    old = checks._SCAN_CHUNK
    try:
        for chunk in (old, 3):
            checks._SCAN_CHUNK = chunk
            assert checks.json_depth(data) == nesting(value)
    finally:
        checks._SCAN_CHUNK = old


# ----------------------------------------------------------------------------- declared sizes
@pytest.mark.parametrize("member", ["metadata.json", "config.json", "state.json"])
def test_oversized_json_member_is_refused_before_reading(tiny, tmp_path, monkeypatch, member):
    """A JSON member declaring more than MAX_JSON_BYTES is refused from the zip directory: it
    was read whole first (a 26 MB file declaring 1 GiB grew memory by 2 GB)."""
    monkeypatch.setattr(checks, "MAX_JSON_BYTES", 2**20)
    big = b"{" + b" " * (32 * 2**20) + b"}"
    path = _write(tmp_path / "big.kerasnp", _replace(_members(tiny[1]), member, big),
                  fix_checksums=False)
    directory, files = tmp_path, sorted(os.listdir(tmp_path))
    with _bounded(memory=8 * 2**20), pytest.raises(ModelFileError) as err:
        keras.models.load_model(path)
    assert sorted(os.listdir(directory)) == files
    for fragment in (member, f"{len(big)} bytes", "limit is 1048576", "MAX_JSON_BYTES"):
        assert fragment in str(err.value)

