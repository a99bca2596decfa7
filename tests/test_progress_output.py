"""What fit, evaluate and predict print (issue 13 item 6).

The verbose=2 line format is Keras's (checked with Keras 3.15, KERAS_BACKEND=torch):
`4/4 - 0s - 2ms/step - accuracy: 0.4700 - loss: 0.7840` for evaluate, `4/4 - 0s - 900us/step`
for predict. kerasnp's own rules: no carriage returns off a terminal, and a bar that wraps
between metrics on a narrow terminal instead of cutting them off.
"""
import io
import logging
import re
import sys

import numpy as np
import pytest

import kerasnp as keras
from kerasnp import callbacks, utils

_ESC = re.compile(r"\x1b\[\d*[A-Za-z]")
_STEP = r"\d+(?:us|ms|s)/step"


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def data(n=64):
    rng = np.random.default_rng(0)
    x = rng.random((n, 4)).astype("float32")
    return x, (x.sum(1) > 2).astype("int32")


def model(long_metric=False):
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    metrics = ["accuracy"]
    if long_metric:
        metrics.append(keras.metrics.SparseTopKCategoricalAccuracy(k=1))
    m.compile("adam", "sparse_categorical_crossentropy", metrics=metrics)
    return m


def epoch_blocks(text):
    """The final screen of each epoch's bar: the rows after its last erase, escapes removed."""
    blocks = []
    for part in text.split("Epoch ")[1:]:
        last = part.split("\x1b[J")[-1]
        blocks.append([_ESC.sub("", r) for r in last.rstrip("\n").split("\n")])
    return blocks


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_fit_off_a_terminal_prints_one_line_per_epoch(capsys, verbose):
    x, y = data()
    model().fit(x, y, epochs=3, batch_size=16, verbose=verbose, validation_split=0.25)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    for line in lines[1::2]:
        assert re.fullmatch(rf"3/3 - \d+s - {_STEP} - loss: \S+ - accuracy: \S+ - "
                            r"val_loss: \S+ - val_accuracy: \S+", line), line


def test_fit_on_a_narrow_terminal_shows_every_metric(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    x, y = data()
    history = model(long_metric=True).fit(x, y, epochs=2, batch_size=8, verbose=1,
                                          validation_split=0.25)
    text = tty.getvalue()
    assert "\r" in text                                       # a live bar on a terminal
    blocks = epoch_blocks(text)
    assert len(blocks) == 2
    for epoch, rows in enumerate(blocks):
        assert all(len(r) <= 59 for r in rows), rows
        shown = " ".join(rows)
        for name, values in history.history.items():
            assert f"{name}: {values[epoch]:.4f}" in shown, (name, rows)
        assert re.match(r"6/6 \[=+\] \d+s " + _STEP, rows[0]), rows


def test_fit_verbose_2_on_a_terminal_draws_no_bar(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    x, y = data()
    model().fit(x, y, epochs=2, batch_size=16, verbose=2)
    assert "\r" not in tty.getvalue() and tty.getvalue().count("4/4 - ") == 2


def test_predict_shows_a_bar_on_a_terminal(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    x, _ = data()
    out = model().predict(x, batch_size=16, verbose=1)
    assert out.shape == (64, 2)
    text = tty.getvalue()
    assert "\r" in text and text.endswith("\n")
    rows = [_ESC.sub("", r) for r in text.split("\x1b[J")[-1].rstrip("\n").split("\n")]
    assert re.fullmatch(rf"4/4 \[====================\] \d+s {_STEP}", rows[0]), rows
    assert "1/4 [" in text                               # drawn while it ran


def test_predict_off_a_terminal(capsys):
    x, _ = data()
    m = model()
    m.predict(x, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and re.fullmatch(rf"4/4 - \d+s - {_STEP}\n", out), out
    m.predict(x, batch_size=16, verbose=2)
    assert re.fullmatch(rf"4/4 - \d+s - {_STEP}\n", capsys.readouterr().out)
    m.predict(x, batch_size=16, verbose=0)
    assert capsys.readouterr().out == ""


def test_evaluate_verbose_2_prints_steps_time_and_metrics(capsys):
    x, y = data()
    m = model()
    loss, acc = m.evaluate(x, y, batch_size=16, verbose=2)
    out = capsys.readouterr().out
    match = re.fullmatch(rf"4/4 - \d+s - {_STEP} - loss: (\S+) - accuracy: (\S+)\n", out)
    assert match, out
    assert match.group(1) == f"{loss:.4f}" and match.group(2) == f"{acc:.4f}"


def test_evaluate_verbose_1(capsys, monkeypatch):
    x, y = data()
    m = model()
    m.evaluate(x, y, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and out.count("\n") == 1 and out.startswith("4/4 - ")
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    m.evaluate(x, y, batch_size=16, verbose=1)
    assert "\r" in tty.getvalue() and "4/4 [" in tty.getvalue()
    assert "accuracy: " in tty.getvalue().split("\x1b[J")[-1]


def test_validation_inside_fit_is_silent_and_user_logger_not_doubled(capsys):
    x, y = data()
    model().fit(x, y, epochs=1, batch_size=16, verbose=2, validation_split=0.25,
                callbacks=[callbacks.ProgbarLogger()])
    out = capsys.readouterr().out
    assert out.count("Epoch 1/1") == 1 and len(out.splitlines()) == 2, out


def test_progbar_logger_takes_verbose_from_the_call(capsys):
    x, y = data()
    model().fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[callbacks.ProgbarLogger()])
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="verbose"):
        callbacks.ProgbarLogger(verbose=5)


def test_progbar_logger_writes_to_its_file(capsys):
    x, y = data()
    sink = io.StringIO()
    model().fit(x, y, epochs=2, batch_size=16, callbacks=[callbacks.ProgbarLogger(2, sink)])
    assert capsys.readouterr().out == ""
    assert sink.getvalue().count("Epoch ") == 2 and sink.getvalue().count("3/3 - ") == 0
    assert sink.getvalue().count("4/4 - ") == 2


def test_interrupted_epoch_ends_the_bar_row(monkeypatch):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    x, y = data()
    stop = callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs: setattr(m, "stop_training", b == 1))
    m = model()
    m.fit(x, y, epochs=3, batch_size=16, verbose=1, callbacks=[stop])
    assert tty.getvalue().endswith("\n")


def test_disabled_interactive_logging_goes_to_logging(capsys, caplog):
    x, y = data()
    try:
        utils.disable_interactive_logging()
        with caplog.at_level(logging.INFO, logger="kerasnp"):
            model().fit(x, y, epochs=2, batch_size=16, verbose=1)
    finally:
        utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    messages = [r.getMessage() for r in caplog.records if r.name == "kerasnp"]
    assert messages[0::2] == ["Epoch 1/2", "Epoch 2/2"]
    assert all(m.startswith("4/4 - ") and "loss: " in m for m in messages[1::2])


def test_callback_messages_follow_the_interactive_logging_switch(capsys, caplog):
    x, y = data()
    stop = callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=10.0, verbose=1)
    try:
        utils.disable_interactive_logging()
        with caplog.at_level(logging.INFO, logger="kerasnp"):
            model().fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[stop])
    finally:
        utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert any("early stopping" in r.getMessage() for r in caplog.records)
    model().fit(x, y, epochs=5, batch_size=16, verbose=0, callbacks=[stop])
    assert "early stopping" in capsys.readouterr().out


def test_a_callback_message_during_the_live_bar_goes_on_its_own_row(monkeypatch, tmp_path):
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stdout", tty)
    x, y = data()
    save = callbacks.ModelCheckpoint(str(tmp_path / "m.weights.npz"), monitor="loss",
                                     save_weights_only=True, verbose=1)
    model().fit(x, y, epochs=2, batch_size=16, verbose=1, callbacks=[save])
    text = tty.getvalue()
    for epoch in (1, 2):
        start = text.index(f"Epoch {epoch}: ")
        assert text[start - 1] == "\n"                  # the bar's open row was ended first
        after = text[start:].split("\n", 1)[1]
        assert after.startswith("\r\x1b[J4/4 [====================]")    # redrawn below
    assert text.endswith("\n") and "\x1b[A" not in text  # never moved up over the message
