"""The documentation runs: every Python block of README.md and docs/src/*.md is executed.

Convention: each ```python block is runnable unless the line just before its opening fence is
`<!-- no-test -->`. The blocks of one page run in order in one namespace (a later block may use
names from an earlier one), in a fresh interpreter whose working directory is a temp dir, with
MPLBACKEND=Agg and the datasets kept offline (MNIST falls back to the 5,000-image subset).

Also checked: the README's Set-up section holds exactly the two set-up commands, `.ci/run` runs
the README's test command, every `::: target` of the API pages imports, and the layer guide lists
every public layer.
"""
import importlib
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs" / "src"
CI = ROOT / ".ci" / "run"

SETUP_COMMANDS = [
    'pip install -e ".[examples]" && python examples/mnist_mlp.py',
    'pip install -e ".[test]" && python -m pytest -q',
]
TEST_COMMAND = "python -m pytest -q"
NO_TEST = "<!-- no-test -->"
_FENCE = re.compile(r"^(?P<indent> *)```(?P<lang>[\w+-]*)[^\n]*$")


def code_blocks(text, lang="python"):
    """`(line_number, code, runnable)` for each fenced block of `lang` in markdown `text`."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, indent = i, len(m.group("indent"))
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        i += 1
        if m.group("lang") == lang:
            prev = next((lines[k].strip() for k in range(start - 1, -1, -1) if lines[k].strip()),
                        "")
            blocks.append((start + 1, "\n".join(body) + "\n", prev != NO_TEST))
    return blocks


def section(text, title):
    """The body of the `## title` section of a markdown document ('' when absent)."""
    m = re.search(rf"^## {re.escape(title)}\s*$(.*?)(?=^## |\Z)", text, re.M | re.S)
    return m.group(1) if m else ""


def _pages():
    return [README] + sorted(DOCS.rglob("*.md"))


def _runnable_pages():
    return [p for p in _pages() if any(run for _, _, run in code_blocks(p.read_text("utf-8")))]


# Runs the blocks of one page in order; on failure names the page and the block's first line.
_RUNNER = textwrap.dedent("""
    import json, sys, traceback
    page, blocks = sys.argv[1], json.loads(sys.stdin.read())
    namespace = {"__name__": "__main__"}
    for line, code in blocks:
        try:
            exec(compile(code, f"{page}:{line}", "exec"), namespace)
        except BaseException:
            traceback.print_exc()
            sys.exit(f"FAILED: the python block at {page}:{line}")
        finally:
            import matplotlib.pyplot as plt
            plt.close("all")
""")


@pytest.mark.parametrize("page", _runnable_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_code_blocks_run(page, tmp_path):
    blocks = [(line, code) for line, code, run in code_blocks(page.read_text("utf-8")) if run]
    env = dict(os.environ, MPLBACKEND="Agg", KERASNP_OFFLINE="1",
               KERASNP_HOME=str(tmp_path / "kerasnp_home"),
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT),
                                                        os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-c", _RUNNER, str(page.relative_to(ROOT))],
                          input=json.dumps(blocks), capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=600)
    assert proc.returncode == 0, f"{proc.stderr[-4000:]}\n--- stdout ---\n{proc.stdout[-2000:]}"


def test_code_blocks_found():
    """The extractor sees the quickstart and skips blocks marked no-test."""
    readme = code_blocks(README.read_text("utf-8"))
    assert any(run and "model.fit(" in code for _, code, run in readme)
    text = "<!-- no-test -->\n```python\nraise SystemExit(1)\n```\n\n```python\nx = 1\n```\n"
    assert [(code, run) for _, code, run in code_blocks(text)] == [
        ("raise SystemExit(1)\n", False), ("x = 1\n", True)]


def test_readme_has_exactly_the_two_setup_commands():
    setup = section(README.read_text("utf-8"), "Set-up")
    assert setup, "README.md needs a '## Set-up' section"
    commands = [line.strip() for lang in ("bash", "sh", "shell", "console", "")
                for _, code, _ in code_blocks(setup, lang)
                for line in code.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert commands == SETUP_COMMANDS


def test_ci_runs_the_readme_test_command():
    readme_test = SETUP_COMMANDS[1].split("&&")[-1].strip()
    assert readme_test == TEST_COMMAND
    ci = CI.read_text("utf-8")
    assert ci.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in ci
    assert re.search(rf"^{re.escape(TEST_COMMAND)}\s*$", ci, re.M), ci
    assert "mkdocs build --strict -f docs/mkdocs.yml" in ci
    assert os.access(CI, os.X_OK), ".ci/run must be executable"


def _api_targets():
    targets = []
    for page in sorted((DOCS / "api").glob("*.md")):
        for m in re.finditer(r"^::: *([\w.]+)", page.read_text("utf-8"), re.M):
            targets.append((page.name, m.group(1)))
    return targets


def _import_target(path):
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(path)


def test_api_pages_reference_importable_objects():
    targets = _api_targets()
    assert len({page for page, _ in targets}) >= 12
    for page, target in targets:
        _import_target(target)          # raises (naming the target) when it no longer exists


def test_layer_guide_lists_every_public_layer():
    import kerasnp.layers
    guide = (DOCS / "layers.md").read_text("utf-8")
    missing = [name for name in kerasnp.layers.__all__
               if name != "Layer" and f"`{name}" not in guide]
    assert not missing, f"docs/src/layers.md does not list: {', '.join(missing)}"


def test_mkdocs_config_lists_every_page():
    config = (ROOT / "docs" / "mkdocs.yml").read_text("utf-8")
    assert re.search(r"^docs_dir: src$", config, re.M)
    for page in DOCS.rglob("*.md"):
        assert str(page.relative_to(DOCS)) in config, f"{page} is missing from the nav"


def test_activation_page_lists_every_activation():
    from kerasnp import activations
    page = (DOCS / "api" / "activations.md").read_text("utf-8")
    missing = [name for name in activations.names() if f"`{name}`" not in page]
    assert not missing, f"docs/src/api/activations.md does not list: {', '.join(missing)}"


def test_ops_guide_lists_every_op():
    from kerasnp import ops
    guide = (DOCS / "ops.md").read_text("utf-8")
    missing = sorted(name for name in ops.OPS
                     if name not in ("dense",) and f"`{name}" not in guide)
    assert not missing, f"docs/src/ops.md does not list: {', '.join(missing)}"
