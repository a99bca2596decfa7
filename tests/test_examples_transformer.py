"""examples/transformer_classifier.py runs offline as a user would: a custom token-and-position
embedding layer written with ops, a transformer block, a test accuracy far above chance (0.5)
and the saved history plot."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_transformer_classifier_example(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg", KERASNP_OFFLINE="1",
               KERASNP_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples",
                                                        "transformer_classifier.py"),
                           "--epochs", "6", "--samples", "3000", "--out", "history.png"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "3000 training and 1000 test sequences of 16 tokens" in done.stdout
    assert "token_and_position_embedding" in done.stdout        # summary() of the custom layer
    assert "Epoch 6/6" in done.stdout
    acc = float(re.findall(r"^test accuracy: ([0-9.]+)$", done.stdout, re.M)[-1])
    assert acc > 0.8, done.stdout[-2000:]
    png = tmp_path / "history.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
