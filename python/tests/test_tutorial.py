# SPDX-License-Identifier: Apache-2.0
"""docs/python_tutorial.md: its ```python blocks are docs/python_tutorial.py's cells verbatim, they run
in order, and the figures the tutorial quotes (its ```text blocks) are what they print. The plot cell
skips itself when matplotlib is not installed."""

import contextlib
import io
import re

import pytest

from conftest import REPO

MD = REPO / "docs" / "python_tutorial.md"
SCRIPT = REPO / "docs" / "python_tutorial.py"

pytestmark = pytest.mark.skipif(not MD.exists() or not SCRIPT.exists(), reason="no docs/ in this checkout")


def _blocks(kind):
    return [m.group(1).rstrip("\n") for m in re.finditer(rf"```{kind}\n(.*?)```", MD.read_text(), re.S)]


def _cells():
    return [c.strip("\n") for c in SCRIPT.read_text().split("\n# %%\n")[1:]]


def test_blocks_are_the_script_cells():
    assert _blocks("python") == _cells()


def test_tutorial_runs_and_prints_what_it_quotes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the plot cell writes docs/images/ under the working directory
    namespace = {"__name__": "__tutorial__"}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for n, code in enumerate(_blocks("python")):
            exec(compile(code, f"<python_tutorial.md block {n}>", "exec"), namespace)
    assert out.getvalue().rstrip("\n").split("\n") == "\n".join(_blocks("text")).split("\n")
    svg = tmp_path / "docs" / "images" / "python_tutorial_load.svg"
    if namespace.get("plt") is None:
        assert not svg.exists()
    else:
        text = svg.read_text()
        assert text.startswith("<?xml") and "fulcrum.balance" in text and "round-robin" in text
        assert len(text) < 64_000  # kept small
    assert (REPO / "docs" / "images" / "python_tutorial_load.svg").exists()  # the committed figure
