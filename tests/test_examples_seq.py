"""Run the sequence examples as a user would (offline, headless) and check what they print and
save: the text classifier beats chance clearly, the LSTM forecast beats the naive one."""
import pytest

import kerasnp as keras
from test_examples import _assert_png, _run, _value

needs_lstm = pytest.mark.skipif(not hasattr(keras.layers, "LSTM"),
                                reason="kerasnp.layers.LSTM is not available yet")


@needs_lstm
def test_text_classification(tmp_path):
    out = _run("text_classification.py", tmp_path, "--verbose", "0", timeout=240)
    assert "1600 training and 400 test reviews" in out
    assert "vocabulary:" in out and "['', '[UNK]'" in out
    assert _value(out, "test accuracy") >= 0.85
    _assert_png(tmp_path / "text_classification_history.png")


@needs_lstm
def test_timeseries_forecasting(tmp_path):
    out = _run("timeseries_forecasting.py", tmp_path, "--verbose", "0", "--out", "fc.png",
               timeout=240)
    assert "windows 24 steps x 3 features" in out
    mae = _value(out, "test MAE (temperature units)")
    assert mae < 0.8 * _value(out, "naive last-value MAE")
    _assert_png(tmp_path / "fc.png")
    assert not (tmp_path / "timeseries_forecast.png").exists()     # --out is honoured
