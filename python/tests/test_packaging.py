# SPDX-License-Identifier: Apache-2.0
"""The two ways to build the package describe the same package.

pyproject.toml at the repository root (`pip install .`, the sdist that carries include/) and
python/pyproject.toml (`pip install ./python`) must agree on the metadata users see, and the
version must be the library's (include/fulcrum/version.hpp), which the extension reports.
"""

import re

import pytest

import fulcrum
from conftest import REPO

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

ROOT = REPO / "pyproject.toml"
SUB = REPO / "python" / "pyproject.toml"
pytestmark = pytest.mark.skipif(not (ROOT.exists() and SUB.exists()), reason="not a fulcrum checkout")


def _load(path):
    with open(path, "rb") as f:
        return tomllib.load(f)


def _header_version():
    text = (REPO / "include" / "fulcrum" / "version.hpp").read_text()
    parts = [re.search(rf"#define\s+FULCRUM_VERSION_{p}\s+(\d+)", text).group(1) for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def test_both_pyprojects_describe_the_same_package():
    root, sub = _load(ROOT)["project"], _load(SUB)["project"]
    for key in ("name", "description", "license", "requires-python", "dependencies", "optional-dependencies"):
        assert root.get(key) == sub.get(key), key
    assert _load(ROOT)["build-system"] == _load(SUB)["build-system"]


def test_versions_agree_with_the_header():
    version = _header_version()
    assert fulcrum.__version__ == version
    sub = _load(SUB)["project"]
    if "version" in sub:
        assert sub["version"] == version
    root = _load(ROOT)
    assert "version" in root["project"].get("dynamic", [])
    regex = root["tool"]["scikit-build"]["metadata"]["version"]["regex"]
    m = re.search(regex, (REPO / "include" / "fulcrum" / "version.hpp").read_text())
    assert m is not None and "{major}.{minor}.{patch}".format(**m.groupdict()) == version


def test_root_sdist_carries_the_headers():
    sk = _load(ROOT)["tool"]["scikit-build"]
    assert "include/fulcrum" in sk["sdist"]["include"]
    assert sk["cmake"]["source-dir"] == "python"
    assert sk["wheel"]["packages"] == ["python/fulcrum"]
