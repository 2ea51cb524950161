# SPDX-License-Identifier: Apache-2.0
"""scripts/setup.sh: start_python_venv_background / wait_python_venv with a fake slow ensure_python_venv.

scripts/test.sh starts the venv job in the background before the C++ build; scripts/test-extra.sh
(a child process) waits for it. Checked here without pip: the fake sleeps, logs and returns a status.
"""

import shutil
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SETUP = REPO / "scripts" / "setup.sh"

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or not SETUP.exists(), reason="needs bash and scripts/")

FAKE = """
ensure_python_venv() {{ echo "fake: start"; sleep {delay}; echo "fake: done"; echo ran >>"$MARK"; return {rc}; }}
"""

# the child: what scripts/test-extra.sh does (source setup.sh afresh, then wait_python_venv); its own
# ensure_python_venv is a fake that records a foreground run
CHILD = """
set -euo pipefail
source "{setup}"
ensure_python_venv() {{ echo foreground >>"$MARK"; return 7; }}
if wait_python_venv; then echo "child: venv ok"; else echo "child: venv failed $?"; fi
"""


def run(script, tmp, timeout=60):
    t0 = time.monotonic()
    out = subprocess.run(["bash", "-c", script], cwd=tmp, capture_output=True, text=True, timeout=timeout,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp), "MARK": str(tmp / "mark")})
    return out, time.monotonic() - t0


def parent(tmp, delay, rc):
    child = tmp / "child.sh"
    child.write_text(CHILD.format(setup=SETUP))
    return f"""
set -euo pipefail
source "{SETUP}"
{FAKE.format(delay=delay, rc=rc)}
start_python_venv_background build
echo "parent: started $FULCRUM_PYVENV_PID"
bash "{child}"
"""


@pytest.mark.parametrize("rc", [0, 1])
def test_child_waits_for_the_background_job(tmp_path, rc):
    out, took = run(parent(tmp_path, 2, rc), tmp_path)
    assert out.returncode == 0, out.stderr
    assert took >= 2, "the child waited for the background job"
    assert "waiting for the Python venv" in out.stdout
    assert ("child: venv ok" if rc == 0 else "child: venv failed 1") in out.stdout
    assert "fake: done" in out.stdout  # the job's log is shown
    assert (tmp_path / "mark").read_text().split() == ["ran"]  # once, in the background; no foreground run
    assert (tmp_path / "build" / "pyvenv.status").read_text().strip() == str(rc)
    assert "fake: start" in (tmp_path / "build" / "pyvenv.log").read_text()


def test_finished_job_is_not_run_again(tmp_path):
    script = parent(tmp_path, 0, 0).replace('bash "', 'sleep 1; bash "')
    out, _ = run(script, tmp_path)
    assert out.returncode == 0, out.stderr
    assert "child: venv ok" in out.stdout and "waiting" not in out.stdout
    assert (tmp_path / "mark").read_text().split() == ["ran"]


def test_alone_runs_in_the_foreground(tmp_path):
    child = tmp_path / "child.sh"
    child.write_text(CHILD.format(setup=SETUP))
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "pyvenv.status").write_text("0\n")  # stale: ignored without a job
    out, _ = run(f'unset FULCRUM_PYVENV_PID; bash "{child}"', tmp_path)
    assert out.returncode == 0, out.stderr
    assert "child: venv failed 7" in out.stdout
    assert (tmp_path / "mark").read_text().split() == ["foreground"]


def test_job_killed_without_status_falls_back(tmp_path):
    child = tmp_path / "child.sh"
    child.write_text(CHILD.format(setup=SETUP))
    script = f"""
source "{SETUP}"
{FAKE.format(delay=5, rc=0)}
start_python_venv_background build
sleep 0.5
kill -- "$FULCRUM_PYVENV_PID"; wait "$FULCRUM_PYVENV_PID" 2>/dev/null || true
bash "{child}"
"""
    out, took = run(script, tmp_path)
    assert took < 20
    assert "left no status" in out.stdout and "child: venv failed 7" in out.stdout
