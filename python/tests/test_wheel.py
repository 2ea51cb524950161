# SPDX-License-Identifier: Apache-2.0
"""`pip wheel ./python` builds an installable wheel (docs/python.md "Wheel and sdist").

Slow (a full compile of the extension, a minute or more): skipped unless FULCRUM_TEST_WHEEL=1.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.environ.get("FULCRUM_TEST_WHEEL") != "1", reason="set FULCRUM_TEST_WHEEL=1 (slow)")


def test_pip_wheel_builds_a_complete_wheel(tmp_path):
    out = tmp_path / "dist"
    cmd = [
        sys.executable, "-m", "pip", "wheel", str(REPO / "python"), "-w", str(out),
        "--no-build-isolation", "--no-deps", f"--config-settings=build-dir={tmp_path / 'build'}",
    ]
    env = dict(os.environ)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "1")
    subprocess.run(cmd, check=True, env=env, capture_output=True, text=True)
    wheels = list(out.glob("fulcrum-*.whl"))
    assert len(wheels) == 1, wheels
    names = zipfile.ZipFile(wheels[0]).namelist()
    for want in ("fulcrum/__init__.py", "fulcrum/_core.pyi", "fulcrum/py.typed"):
        assert want in names
    assert any(n.startswith("fulcrum/_core") and n.endswith((".so", ".pyd")) for n in names)
    # the wheel imports and solves from a clean directory
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheels[0])],
                   check=True, capture_output=True)
    code = "import fulcrum; print(fulcrum.pack([5, 3, 7, 1], 10).bins.to_list())"
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.stdout.strip() == "[[1, 2], [0, 3]]"
