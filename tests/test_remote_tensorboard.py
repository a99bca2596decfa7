"""RemoteMonitor (against a local http.server) and TensorBoard (event files read back).

The event files are parsed here with a reader written for the test: a bit-by-bit CRC32C (not
the library's table), the TFRecord framing and a generic protobuf decoder; and, where the
`tensorboard` package is installed, with TensorBoard's own EventAccumulator. Tags, folders and
steps are Keras's (checked against keras/callbacks/tensorboard.py, Keras 3.15).
"""
import http.server
import json
import os
import socket
import struct
import threading
import urllib.parse

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks
from kerasnp.callbacks import _event_file


# -- an independent reader -----------------------------------------------------------------------
def crc32c_bitwise(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c_bitwise(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def records(path):
    raw = open(path, "rb").read()
    pos, out = 0, []
    while pos < len(raw):
        header = raw[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", raw[pos + 8:pos + 12])[0] == masked(header)
        data = raw[pos + 12:pos + 12 + length]
        assert struct.unpack("<I", raw[pos + 12 + length:pos + 16 + length])[0] == masked(data)
        out.append(data)
        pos += 16 + length
    assert pos == len(raw)
    return out


def decode(buf):
    """Protobuf message -> {field: [raw values]} (varint int, fixed64/32 bytes, bytes)."""
    fields, pos = {}, 0

    def varint():
        nonlocal pos
        shift = value = 0
        while True:
            b = buf[pos]
            pos += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                return value
    while pos < len(buf):
        key = varint()
        field, wire = key >> 3, key & 7
        if wire == 0:
            value = varint()
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            n = varint()
            value, pos = buf[pos:pos + n], pos + n
        fields.setdefault(field, []).append(value)
    return fields


def events(folder):
    files = [f for f in os.listdir(folder) if f.startswith("events.out.tfevents.")]
    assert len(files) == 1 and files[0].endswith(".v2")
    out = []
    for rec in records(os.path.join(folder, files[0])):
        ev = decode(rec)
        item = {"wall_time": struct.unpack("<d", ev[1][0])[0], "step": ev.get(2, [0])[0]}
        if 3 in ev:
            item["file_version"] = ev[3][0].decode()
        if 5 in ev:
            item["values"] = [decode(v) for v in decode(ev[5][0]).get(1, [])]
        out.append(item)
    return out


def scalars(folder):
    """{tag: {step: value}} of the simple_value scalars."""
    out = {}
    for ev in events(folder):
        for v in ev.get("values", []):
            if 2 in v:
                out.setdefault(v[1][0].decode(), {})[ev["step"]] = \
                    struct.unpack("<f", v[2][0])[0]
    return out


def data():
    rng = np.random.default_rng(0)
    x = rng.random((64, 4)).astype("float32")
    return x, (x.sum(1) > 2).astype("int32")


def model():
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    m.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy",
              metrics=["accuracy"])
    return m


# -- event-file pieces ---------------------------------------------------------------------------
def test_crc32c_and_framing():
    assert _event_file.crc32c(b"123456789") == 0xE3069283       # the standard check value
    for blob in (b"", b"a", bytes(range(256)) * 3):
        assert _event_file.crc32c(blob) == crc32c_bitwise(blob)
        assert _event_file.masked_crc32c(blob) == masked(blob)
    frame = _event_file.tfrecord(b"hello")
    assert len(frame) == 8 + 4 + 5 + 4 and frame[12:17] == b"hello"


# -- TensorBoard ---------------------------------------------------------------------------------
def test_tensorboard_writes_keras_tags_in_train_and_validation(tmp_path):
    x, y = data()
    m = model()
    tb = callbacks.TensorBoard(log_dir=tmp_path / "logs")
    hist = m.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, callbacks=[tb], verbose=0)
    train, val = tmp_path / "logs" / "train", tmp_path / "logs" / "validation"
    first = events(train)[0]
    assert first["file_version"] == "brain.Event:2" and "values" not in first
    got = scalars(train)
    assert set(got) == {"epoch_loss", "epoch_accuracy", "epoch_learning_rate"}
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose([got[f"epoch_{name}"][e] for e in range(3)],
                                   hist.history[name], rtol=1e-6)
    assert got["epoch_learning_rate"] == {0: pytest.approx(0.05), 1: pytest.approx(0.05),
                                          2: pytest.approx(0.05)}
    vgot = scalars(val)
    for name in ("loss", "accuracy"):
        np.testing.assert_allclose([vgot[f"epoch_{name}"][e] for e in range(3)],
                                   hist.history["val_" + name], rtol=1e-6)
    # after each validation, at the optimizer's step count (3 batches of 16 per epoch)
    assert sorted(vgot["evaluation_loss_vs_iterations"]) == [3, 6, 9]
    np.testing.assert_allclose(vgot["evaluation_loss_vs_iterations"][9],
                               hist.history["val_loss"][-1], rtol=1e-6)


def test_tensorboard_batch_updates_and_histograms(tmp_path):
    x, y = data()
    m = model()
    tb = callbacks.TensorBoard(log_dir=str(tmp_path), update_freq=2, histogram_freq=2,
                               write_steps_per_second=True)
    m.fit(x, y, epochs=3, batch_size=16, callbacks=[tb], verbose=0)
    got = scalars(tmp_path / "train")
    assert sorted(got["batch_loss"]) == [2, 4, 6, 8, 10, 12]       # 4 batches x 3 epochs
    assert sorted(got["batch_steps_per_second"]) == [2, 4, 6, 8, 10, 12]
    assert all(v > 0 for v in got["epoch_steps_per_second"].values())
    assert not (tmp_path / "validation").exists()                   # no validation, no folder
    histos = {}
    for ev in events(tmp_path / "train"):
        for v in ev.get("values", []):
            if 5 in v:
                histos.setdefault(v[1][0].decode(), {})[ev["step"]] = decode(v[5][0])
    assert set(histos) == {"dense/kernel/histogram", "dense/bias/histogram"}
    assert sorted(histos["dense/kernel/histogram"]) == [0, 2]       # every 2nd epoch
    kernel = m.layers[0].kernel.value.astype(np.float64)            # final = epoch 2's
    h = histos["dense/kernel/histogram"][2]
    d = {f: struct.unpack("<d", h[f][0])[0] for f in (1, 2, 3, 4, 5)}
    assert (d[1], d[2], d[3]) == (kernel.min(), kernel.max(), kernel.size)
    np.testing.assert_allclose([d[4], d[5]], [kernel.sum(), (kernel ** 2).sum()], rtol=1e-12)
    counts = np.frombuffer(h[7][0], "<f8")
    limits = np.frombuffer(h[6][0], "<f8")
    assert counts.sum() == kernel.size and limits[-1] == kernel.max()
    np.testing.assert_array_equal(counts, np.histogram(kernel, 30)[0])


def test_tensorboard_on_evaluate_and_tensorboard_reader(tmp_path):
    x, y = data()
    m = model()
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    loss, acc = m.evaluate(x, y, verbose=0, callbacks=[callbacks.TensorBoard(str(tmp_path))])
    got = scalars(tmp_path / "validation")
    assert got["evaluation_loss_vs_iterations"] == {4: pytest.approx(loss, rel=1e-6)}
    assert got["evaluation_accuracy_vs_iterations"] == {4: pytest.approx(acc, rel=1e-6)}


def test_tensorboard_files_open_in_tensorboard(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import event_accumulator as ea
    x, y = data()
    hist = model().fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                       callbacks=[callbacks.TensorBoard(str(tmp_path), histogram_freq=1)])
    acc = ea.EventAccumulator(str(tmp_path / "train"), size_guidance={ea.SCALARS: 0})
    acc.Reload()
    assert "epoch_loss" in acc.Tags()["scalars"]
    loss = acc.Scalars("epoch_loss")
    assert [e.step for e in loss] == [0, 1]
    np.testing.assert_allclose([e.value for e in loss], hist.history["loss"], rtol=1e-6)
    assert "dense/kernel/histogram" in acc.Tags()["histograms"]
    val = ea.EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    np.testing.assert_allclose([e.value for e in val.Scalars("epoch_loss")],
                               hist.history["val_loss"], rtol=1e-6)
    # what the TensorBoard server reads: the plugin accumulator (scalars/histograms plugins)
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.util import tensor_util
    acc = pea.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    assert acc.SummaryMetadata("epoch_loss").plugin_data.plugin_name == "scalars"
    assert acc.SummaryMetadata("dense/kernel/histogram").plugin_data.plugin_name == "histograms"
    np.testing.assert_allclose([tensor_util.make_ndarray(e.tensor_proto)
                                for e in acc.Tensors("epoch_loss")], hist.history["loss"],
                               rtol=1e-6)
    buckets = tensor_util.make_ndarray(acc.Tensors("dense/bias/histogram")[-1].tensor_proto)
    assert buckets.shape[1] == 3 and buckets[:, 2].sum() == 2      # 2 biases counted


def test_tensorboard_arguments():
    with pytest.warns(UserWarning, match="profile_batch"):
        callbacks.TensorBoard(profile_batch=2)
    with pytest.warns(UserWarning, match="embeddings_freq"):
        callbacks.TensorBoard(embeddings_freq=1)
    with pytest.warns(UserWarning, match="write_images"):
        callbacks.TensorBoard(write_images=True)
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="histogram_freq"):
        callbacks.TensorBoard(histogram_freq=-1)
    tb = callbacks.TensorBoard(update_freq="batch", write_graph=False)
    assert tb.update_freq == 1 and tb.log_dir == "logs"


# -- RemoteMonitor -------------------------------------------------------------------------------
@pytest.fixture
def server(monkeypatch):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    received = []

    class Handler(http.server.BaseHTTPRequestHandler):
        status = 200

        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, dict(self.headers), body))
            self.send_response(Handler.status)
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}", received, Handler
    httpd.shutdown()
    httpd.server_close()


def test_remote_monitor_posts_a_form_per_epoch(server):
    root, received, _ = server
    x, y = data()
    hist = model().fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0,
                       callbacks=[callbacks.RemoteMonitor(root=root)])
    assert len(received) == 2
    for epoch, (path, headers, body) in enumerate(received):
        assert path == "/publish/epoch/end/"
        assert headers["Content-Type"] == "application/x-www-form-urlencoded"
        sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
        assert sent["epoch"] == epoch
        for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
            assert sent[key] == pytest.approx(hist.history[key][epoch], rel=1e-12)


def test_remote_monitor_json_with_headers_and_field(server):
    root, received, _ = server
    x, y = data()
    monitor = callbacks.RemoteMonitor(root=root, path="/log", headers={"X-Run": "r1"},
                                      send_as_json=True)
    model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[monitor])
    path, headers, body = received[0]
    assert path == "/log" and headers["X-Run"] == "r1"
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert sent["epoch"] == 0 and set(sent) == {"epoch", "loss", "accuracy"}
    model().fit(x, y, epochs=1, batch_size=16, verbose=0,
                callbacks=[callbacks.RemoteMonitor(root=root, field="payload")])
    assert "payload" in urllib.parse.parse_qs(received[1][2].decode())


def test_remote_monitor_failure_warns_and_training_goes_on(server):
    root, received, handler = server
    x, y = data()
    handler.status = 500
    with pytest.warns(UserWarning, match="RemoteMonitor: could not send"):
        hist = model().fit(x, y, epochs=2, batch_size=16, verbose=0,
                           callbacks=[callbacks.RemoteMonitor(root=root)])
    assert len(hist.history["loss"]) == 2 and len(received) == 2
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()                                   # nothing listens there now
    with pytest.warns(UserWarning, match="could not send") as caught:
        hist = model().fit(x, y, epochs=3, batch_size=16, verbose=0,
                           callbacks=[callbacks.RemoteMonitor(root=f"http://127.0.0.1:{port}")])
    assert len(hist.history["loss"]) == 3 and len(caught) == 3


def test_remote_monitor_arguments():
    with pytest.raises(ValueError, match="root"):
        callbacks.RemoteMonitor(root="localhost:9000")
    with pytest.raises(TypeError, match="headers"):
        callbacks.RemoteMonitor(headers=["X: y"])
    with pytest.raises(TypeError, match="path"):
        callbacks.RemoteMonitor(path=None)
