"""The sandbox's isolation, process by process: what students' code can see, reach and leave behind
(fast: each test starts a few sandboxes in this process's own grading worker)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import isolation, sandbox
from grader.worker import Worker
from tests import ordinary_user


def _modes():
    modes = []
    for mode in ("namespaces", "landlock"):
        problem = isolation._probe(mode)
        modes.append(mode if problem is None else pytest.param(mode, marks=pytest.mark.skip(reason=problem)))
    return modes


@pytest.fixture(scope="module", params=_modes())
def worker(request):
    made = Worker(sandbox.claim_slot(), sandbox.Limits(cell_seconds=20), isolation.view_for(), request.param)
    yield made
    made.close()


def run(worker, *sources):
    """Run cells in a new sandbox; the text of each cell's outputs."""
    box = worker._sandbox()
    try:
        texts = []
        for source in sources:
            result = box.execute(source)
            texts.append("".join(o.get("text") or f"{o.get('ename')}: {o.get('evalue')}" for o in result["outputs"]))
        return texts
    finally:
        box.close()


def test_only_the_allowlist_is_readable(worker, tmp_path):
    secret = tmp_path / "gradebook.db"
    secret.write_text("marks")
    home = Path(os.path.expanduser("~")) / ".bashrc"
    outside, venv, course = run(worker, f"print(open({str(secret)!r}).read())",
                                "import numpy, os; print(os.path.exists(numpy.__file__))",
                                f"import os; print(os.listdir({str(Path.cwd())!r}))")
    assert "marks" not in outside and ("FileNotFoundError" in outside or "PermissionError" in outside)
    assert venv.strip() == "True"
    assert "nbgrader_config.py" not in course and "README.md" not in course
    if home.exists():
        (text,) = run(worker, f"print(open({str(home)!r}).read()[:50])")
        assert "Error" in text


def test_the_environment_cannot_be_changed(worker):
    import sysconfig
    planted = Path(sysconfig.get_paths()["purelib"]) / "zz_planted_by_a_test.pth"
    try:
        (text,) = run(worker, f"open({str(planted)!r}, 'w').write('import os')")
        assert "Error" in text and not planted.exists()
    finally:
        planted.unlink(missing_ok=True)


def test_no_variable_of_the_instructor_reaches_students(worker, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "token-of-the-instructor")
    (text,) = run(worker, "import os; print(sorted(os.environ.items()))")
    assert "token-of-the-instructor" not in text and "HOME" in text
    kept = isolation.worker_environment({"PATH": "/usr/bin", "AWS_SECRET_ACCESS_KEY": "x", "LANG": "C.UTF-8"})
    assert "AWS_SECRET_ACCESS_KEY" not in kept and kept["PATH"] == "/usr/bin" and kept["LANG"] == "C.UTF-8"


def test_no_network(worker):
    (text,) = run(worker, "import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', 9))")
    assert "PermissionError" in text, text


def test_signals_stay_inside(worker):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (text,) = run(worker, f"import os, signal\nos.kill({victim.pid}, signal.SIGKILL)")
        time.sleep(0.2)
        assert victim.poll() is None, f"a sandbox killed a process outside it: {text}"
    finally:
        victim.kill()
        victim.wait()


def _comm_processes(name):
    found = []
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and open(f"/proc/{entry}/comm").read().strip() == name:
                found.append(int(entry))
        except OSError:
            pass
    return found


DAEMON = """
import ctypes, os, threading, time
def _name():
    ctypes.CDLL(None).prctl(15, b"cnn-leftover", 0, 0, 0)   # PR_SET_NAME, looked for afterwards
try:
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            _name()
            time.sleep(60)
        os._exit(0)
except OSError as error:
    print("fork:", error)
def _linger():
    _name()
    time.sleep(60)
threading.Thread(target=_linger).start()
"""


def test_nothing_outlives_a_sandbox(worker):
    """Daemons, lingering threads and System V shared memory end with the sandbox."""
    box = worker._sandbox()
    try:
        box.execute(DAEMON)
        box.execute("import ctypes\nlib = ctypes.CDLL(None)\nprint(lib.shmget(0x5EC7E8, 4096, 0o1666))")
        time.sleep(0.3)
    finally:
        box.close()
    deadline = time.monotonic() + 2
    while _comm_processes("cnn-leftover") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _comm_processes("cnn-leftover") == []
    with open("/proc/sysvipc/shm") as table:
        assert str(0x5EC7E8) not in [line.split()[0] for line in table.readlines()[1:]]


def test_state_folder_is_private(tmp_path):
    mine = tmp_path / "state"
    assert isolation.state_dir(str(mine)) == str(mine) and (mine.stat().st_mode & 0o777) == 0o700
    open_to_all = tmp_path / "shared"
    open_to_all.mkdir(mode=0o777)
    open_to_all.chmod(0o777)
    with pytest.raises(isolation.IsolationUnavailable, match="only you can open"):
        isolation.state_dir(str(open_to_all))
    (tmp_path / "link").symlink_to(mine)
    with pytest.raises(isolation.IsolationUnavailable):
        isolation.state_dir(str(tmp_path / "link"))


def test_a_planted_lock_symlink_is_never_followed(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    target = tmp_path / "chosen-by-the-planter"
    (state / "slot-0.lock").symlink_to(target)
    monkeypatch.setattr(isolation, "state_dir", lambda: str(state))
    with pytest.raises(OSError):
        sandbox.claim_slot(limit=1)
    assert not target.exists()


def test_no_mode_means_no_grading(monkeypatch):
    monkeypatch.setattr(isolation, "_probe", lambda mode: f"{mode} is not allowed here")
    with pytest.raises(isolation.IsolationUnavailable, match="namespaces is not allowed.*landlock is not allowed"):
        isolation.choose_mode("auto")
    assert isolation.choose_mode("unsafe") == "unsafe"


@pytest.mark.root_only
@pytest.mark.skipif(ordinary_user.available() is not None or os.environ.get("CNN_ISOLATION_AS_USER") == "1",
                    reason=str(ordinary_user.available()) + " (or this is the ordinary user's own run)")
def test_the_same_holds_for_an_ordinary_user():
    """This module again, run by an ordinary user: the sandbox is built without root."""
    folder = ordinary_user.scratch_folder()
    try:
        ordinary_user.give(folder, *ordinary_user.ensure_user())
        env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8",
               "CNN_ISOLATION_AS_USER": "1", "PYTHONDONTWRITEBYTECODE": "1"}
        args = [sys.executable, "-m", "pytest", str(Path(__file__)), "-q", "-p", "no:cacheprovider",
                "--basetemp", str(folder / "tmp"), "-W", "ignore::DeprecationWarning"]
        with ordinary_user.reachable(*ordinary_user.environment_paths()):
            result = subprocess.run(ordinary_user.command(args, env), cwd=ordinary_user.REPO, capture_output=True,
                                    text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert " passed" in result.stdout and "skipped" in result.stdout  # only this test skips there
    finally:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
