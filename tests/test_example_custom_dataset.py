"""examples/custom_dataset.py runs offline end to end: files, Dataset, DataLoader, Normalization."""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_custom_dataset_example(tmp_path):
    env = dict(os.environ, PYTHONPATH=ROOT, MPLBACKEND="Agg", KERASNP_OFFLINE="1",
               KERASNP_HOME=str(tmp_path / "home"))
    done = subprocess.run([sys.executable, os.path.join(ROOT, "examples", "custom_dataset.py"),
                           "--epochs", "6", "--per-class", "80", "--data",
                           str(tmp_path / "data")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(os.listdir(tmp_path / "data" / "disc")) == 80
    png = tmp_path / "custom_dataset.png"
    assert png.exists() and png.read_bytes()[:4] == b"\x89PNG"
    acc = float(re.search(r"validation accuracy: ([0-9.]+)", done.stdout).group(1))
    assert acc > 0.6
