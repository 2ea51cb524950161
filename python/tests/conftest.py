# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: the C++ parity driver (python/tests/driver.cpp), built once per session."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cpp_driver(tmp_path_factory):
    """Path of the compiled C++ driver; skipped when no C++20 compiler or no checkout is at hand."""
    cxx = os.environ.get("CXX") or shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    include = REPO / "include"
    if not cxx or not (include / "fulcrum" / "fulcrum.hpp").exists():
        pytest.skip("no C++ compiler or no fulcrum checkout for the parity driver")
    exe = tmp_path_factory.mktemp("driver") / "driver"
    cmd = [cxx, "-std=c++20", "-O1", "-I", str(include), str(Path(__file__).with_name("driver.cpp")), "-o", str(exe)]
    subprocess.run(cmd, check=True)
    return exe
