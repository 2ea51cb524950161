# SPDX-License-Identifier: Apache-2.0
"""Every ```python block of README.md and docs/python.md runs as written."""

import re

import pytest

from conftest import REPO

BLOCKS = [
    pytest.param(m.group(1), id=f"{name}:{n}")
    for name in ("README.md", "docs/python.md")
    if (REPO / name).exists()
    for n, m in enumerate(re.finditer(r"```python\n(.*?)```", (REPO / name).read_text(), re.S))
]


@pytest.mark.parametrize("code", BLOCKS)
def test_python_snippet_runs(code):
    if re.search(r"^\s*(import torch|from torch|import fulcrum\.torch|from fulcrum\.torch)", code, re.M):
        pytest.importorskip("torch")
    exec(compile(code, "<snippet>", "exec"), {})
