"""kerasnp.utils.Progbar and the interactive-logging switches.

Averages and the verbose=2 line are Keras's (values checked against keras.utils.Progbar 3.15,
KERAS_BACKEND=torch); the drawing rules (no `\\r` off a terminal, wrapping at the terminal width)
are kerasnp's.
"""
import io
import logging
import re
import sys

import pytest

from kerasnp import utils
from kerasnp.utils.progbar import format_time, format_value, wrap_pieces

_ESC = re.compile(r"\x1b\[\d*[A-Za-z]")


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def screen_rows(text):
    """The rows a terminal shows at the end: what follows the last erase, escapes removed."""
    last = text.split("\x1b[J")[-1]
    return [_ESC.sub("", r) for r in last.rstrip("\n").split("\n")]


def test_averages_and_verbose_2_line_as_keras(capsys):
    bar = utils.Progbar(4, verbose=2)
    bar.update(1, [("loss", 1.0)])
    bar.update(3, [("loss", 4.0)])                  # weighted by the 2 steps it covers
    bar.update(4, [("loss", 2.0)], finalize=False)
    bar.update(4, finalize=True)
    out = capsys.readouterr().out
    assert re.fullmatch(r"4/4 - \d+s - \d+(us|ms|s)/step - loss: 2\.7500\n", out), out
    bar = utils.Progbar(4, verbose=2, stateful_metrics=["acc"])
    bar.update(1, [("loss", 1.0), ("acc", 0.5)])
    bar.update(3, [("loss", 4.0), ("acc", 0.7)])
    bar.update(4, [("loss", 0.0005)], finalize=True)   # finalize: the last value as given
    out = capsys.readouterr().out
    assert out.endswith(" - loss: 5.0000e-04 - acc: 0.7000\n"), out


def test_add_counts_steps_and_unit_name(capsys):
    bar = utils.Progbar(3, verbose=2, unit_name="sample")
    for step in range(3):
        bar.add(1, values=[("loss", 1.0 / (step + 1))])
    out = capsys.readouterr().out
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms|s)/sample - loss: 0\.3333\n", out), out


def test_not_a_terminal_prints_one_line_at_the_end_and_no_carriage_return(capsys):
    bar = utils.Progbar(5, verbose=1, interval=0.0)
    for step in range(1, 5):
        bar.update(step, [("loss", 0.5)])
    assert capsys.readouterr().out == ""            # no updates written to a log file
    bar.update(5, [("loss", 0.25)])
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out and "\x1b" not in out
    assert out.count("\n") == 1 and out.startswith("5/5 - ") and "loss: 0.2500" in out


def test_terminal_bar_redraws_in_place(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    tty = FakeTTY()
    bar = utils.Progbar(10, verbose=1, interval=0.0, file=tty)
    for step in range(1, 11):
        bar.update(step, [("loss", 1.0)])
    text = tty.getvalue()
    assert text.count("\r") == 10 and text.endswith("\n")
    rows = screen_rows(text)
    assert len(rows) == 1
    assert re.fullmatch(r"10/10 \[=+\] \d+s \d+(us|ms|s)/step - loss: 1\.0000", rows[0]), rows


def test_terminal_interval_skips_redraws(monkeypatch):
    tty = FakeTTY()
    bar = utils.Progbar(100, verbose=1, interval=3600.0, file=tty)
    for step in range(1, 100):
        bar.update(step)
    assert tty.getvalue().count("\r") == 1          # only the first draw
    bar.update(100)                                 # the last one is always drawn
    assert tty.getvalue().count("\r") == 2


@pytest.mark.parametrize("columns", [30, 60, 80])
def test_narrow_terminal_wraps_between_metrics_and_cuts_none(monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    tty = FakeTTY()
    names = ["loss", "accuracy", "sparse_top_k_categorical_accuracy", "val_loss",
             "val_accuracy", "val_sparse_top_k_categorical_accuracy"]
    bar = utils.Progbar(8, verbose=1, interval=0.0, file=tty)
    for step in range(1, 9):
        bar.update(step, [(n, 0.125 * i) for i, n in enumerate(names)])
    rows = screen_rows(tty.getvalue())
    assert all(len(r) <= columns - 1 for r in rows), rows   # never wider than the terminal
    joined = "".join(r.strip() for r in rows)     # a name wider than a row is split in two
    for i, n in enumerate(names):
        assert f"{n}: {format_value(0.125 * i)}" in joined, (n, rows)
    if columns >= 60:                               # wide enough: every metric on one row
        for n in names:
            assert any(r.strip().startswith(n + ": ") or f" - {n}: " in r for r in rows)
    assert rows[0].startswith("8/8")


def test_redraw_moves_up_over_the_rows_of_a_wrapped_bar(monkeypatch):
    monkeypatch.setenv("COLUMNS", "40")
    tty = FakeTTY()
    bar = utils.Progbar(3, verbose=1, interval=0.0, file=tty)
    bar.update(1, [("loss", 1.0), ("a_long_metric_name", 2.0), ("val_loss", 3.0)])
    first_rows = len(screen_rows(tty.getvalue()))
    assert first_rows > 1
    bar.update(2, [("loss", 1.0), ("a_long_metric_name", 2.0), ("val_loss", 3.0)])
    assert f"\r\x1b[{first_rows - 1}A\x1b[J" in tty.getvalue()


def test_unknown_target(capsys):
    tty = FakeTTY()
    bar = utils.Progbar(None, verbose=1, interval=0.0, file=tty)
    bar.update(7)
    assert "7/Unknown" in tty.getvalue()
    bar = utils.Progbar(None, verbose=2)
    bar.update(7, finalize=True)
    assert capsys.readouterr().out.startswith("7/Unknown - ")


def test_verbose_0_is_silent(capsys):
    bar = utils.Progbar(2, verbose=0, file=FakeTTY())
    bar.add(2, [("loss", 1.0)])
    assert capsys.readouterr().out == "" and bar.file.getvalue() == ""


def test_interactive_logging_switch_sends_lines_to_logging(capsys, caplog, monkeypatch):
    assert utils.is_interactive_logging_enabled() is True
    monkeypatch.setattr(sys, "stdout", FakeTTY())
    try:
        utils.disable_interactive_logging()
        assert utils.is_interactive_logging_enabled() is False
        with caplog.at_level(logging.INFO, logger="kerasnp"):
            bar = utils.Progbar(3, verbose=1, interval=0.0)
            for _ in range(3):
                bar.add(1, [("loss", 2.0)])
        assert sys.stdout.getvalue() == ""          # no bar, even on a terminal
        messages = [r.getMessage() for r in caplog.records if r.name == "kerasnp"]
        assert len(messages) == 1 and messages[0].startswith("3/3 - ")
        assert "loss: 2.0000" in messages[0] and "\r" not in messages[0]
    finally:
        utils.enable_interactive_logging()
    assert utils.is_interactive_logging_enabled() is True


def test_format_helpers():
    assert format_time(0.5, "step") == "500ms/step"
    assert format_time(2e-4, "step") == "200us/step"
    assert format_time(3.2, "epoch") == "3s/epoch"
    assert format_value(0.5) == "0.5000" and format_value(0.0) == "0.0000e+00"
    assert wrap_pieces("h", ["aa", "bb"], 10) == ["h - aa", "  bb"]
    assert all(len(r) <= 10 for r in wrap_pieces("h", ["x" * 25], 10))


@pytest.mark.parametrize("kwargs, match", [
    ({"target": -1}, "target"),
    ({"target": 3, "verbose": 3}, "verbose"),
    ({"target": 3, "width": -2}, "width"),
    ({"target": 3, "interval": -1}, "interval"),
    ({"target": 3, "stateful_metrics": ["a"], "stateless_metrics": ["b"]}, "not both"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        utils.Progbar(**kwargs)


def test_notebook_output_redraws_one_line_without_cursor_codes(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipykernel", sys.modules.get("ipykernel", object()))
    monkeypatch.setenv("COLUMNS", "30")
    bar = utils.Progbar(3, verbose=1, interval=0.0)
    for step in range(1, 4):
        bar.update(step, [("loss", 1.0), ("val_accuracy_of_a_long_name", 0.5)])
    out = capsys.readouterr().out
    assert "\x1b" not in out and out.count("\r") == 3 and out.endswith("\n")
    last = out.split("\r")[-1]
    assert "\n" not in last[:-1]                    # one line: the output area wraps it
    assert last.startswith("3/3 [====================]") and "val_accuracy_of_a_long_name" in last


def test_windows_console_without_escape_codes_redraws_one_line(monkeypatch):
    from kerasnp.utils import interactive_logging
    monkeypatch.setattr(interactive_logging, "_escape_codes_work", lambda: False)
    tty = FakeTTY()
    bar = utils.Progbar(2, verbose=1, interval=0.0, file=tty)
    bar.update(1, [("loss", 1.0)])
    bar.update(2, [("loss", 1.0)])
    assert "\x1b" not in tty.getvalue() and tty.getvalue().count("\r") == 2


def test_config_has_keras_spelling_of_the_logging_switches():
    import kerasnp as keras
    try:
        keras.config.disable_interactive_logging()
        assert not keras.config.is_interactive_logging_enabled()
        assert not keras.utils.is_interactive_logging_enabled()
    finally:
        keras.config.enable_interactive_logging()
    assert keras.config.is_interactive_logging_enabled()
