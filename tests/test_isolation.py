"""The sandbox's isolation, process by process: what students' code can see, reach and leave behind
(fast: each test starts a few sandboxes in this process's own grading worker)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader.engine import isolation, sandbox
from grader.engine.worker import Worker
from tests import ordinary_user


def _modes():
    modes = []
    for mode in ("namespaces", "landlock"):
        problem = isolation._probe(mode)
        modes.append(mode if problem is None else pytest.param(mode, marks=pytest.mark.skip(reason=problem)))
    return modes


@pytest.fixture(scope="module", params=_modes())
def worker(request):
    made = Worker(None, sandbox.claim_slot(), sandbox.Limits(cell_seconds=20), isolation.view_for(), request.param)
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
    """Pids of the processes with a thread named ``name`` (a thread can outlive its main thread)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if any(open(f"/proc/{entry}/task/{task}/comm").read().strip() == name
                   for task in os.listdir(f"/proc/{entry}/task")):
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


def test_other_processes_are_out_of_reach(worker):
    """Limits, priorities and CPUs of a process outside the sandbox (one of the same user, when
    the grader runs as an ordinary user) cannot be changed from inside."""
    import resource
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        before = resource.prlimit(victim.pid, resource.RLIMIT_CPU)
        (text,) = run(worker, "import os, resource\n"
                      f"for attempt in (lambda: resource.prlimit({victim.pid}, resource.RLIMIT_CPU, (1, 1)),\n"
                      f"                lambda: os.setpriority(os.PRIO_PROCESS, {victim.pid}, 19),\n"
                      f"                lambda: os.sched_setaffinity({victim.pid}, {{0}})):\n"
                      "    try:\n        attempt(); print('CHAN' + 'GED')\n    except OSError as error:\n        print(error)\n")
        assert "CHANGED" not in text, text
        assert resource.prlimit(victim.pid, resource.RLIMIT_CPU) == before
        assert os.getpriority(os.PRIO_PROCESS, victim.pid) == 0 and victim.poll() is None
    finally:
        victim.kill()
        victim.wait()


def test_files_outside_keep_their_modes_and_attributes(worker, tmp_path):
    """Landlock does not cover chmod, utime or extended attributes: seccomp does."""
    target = tmp_path / "gradebook.db"
    target.write_text("marks")
    target.chmod(0o600)
    stamp = target.stat()
    (text,) = run(worker, "import os\n"
                  f"for attempt in (lambda: os.chmod({str(target)!r}, 0o666), lambda: os.utime({str(target)!r}, (0, 0)),\n"
                  f"                lambda: os.setxattr({str(target)!r}, 'user.note', b'x')):\n"
                  "    try:\n        attempt(); print('CHAN' + 'GED')\n    except OSError as error:\n        print(error)\n")
    assert "CHANGED" not in text, text
    after = target.stat()
    assert (after.st_mode, after.st_mtime_ns) == (stamp.st_mode, stamp.st_mtime_ns)


def test_no_unix_socket_or_message_queue_of_the_host(worker, tmp_path):
    import ctypes
    import socket
    server = socket.socket(socket.AF_UNIX)
    path = str(tmp_path / "agent.sock")
    server.bind(path)
    os.chmod(path, 0o666)
    server.listen()
    libc = ctypes.CDLL(None, use_errno=True)
    queue = libc.msgget(0x5EC7E9, 0o1666)   # IPC_CREAT
    try:
        (text,) = run(worker, "import socket, ctypes\n"
                      "try:\n    s = socket.socket(socket.AF_UNIX)\n"
                      f"    s.connect({path!r}); print('CONNEC' + 'TED')\n"
                      "except OSError as error:\n    print(error)\n"
                      "libc = ctypes.CDLL(None, use_errno=True)\n"
                      f"print('queue', libc.msgget(0x5EC7E9, 0))\n")
        assert "CONNECTED" not in text, text
        assert "queue -1" in text, text
    finally:
        server.close()
        libc.msgctl(queue, 0, None)   # IPC_RMID


def test_nothing_is_written_outside_a_private_scratch(worker):
    """Namespaces: a private /tmp, gone with the sandbox. Landlock: nothing writable at all."""
    (text,) = run(worker, "import os\nopen(os.path.join(os.environ['HOME'], 'left-behind'), 'w').write('x')\n"
                  "print('WRO' + 'TE', os.environ['HOME'])")
    if worker.mode == "namespaces":
        assert "WROTE /tmp" in text
    else:
        assert "WROTE" not in text and "PermissionError" in text


def test_no_new_processes_and_the_parent_death_signal_stays(worker):
    (text,) = run(worker, "import os, ctypes\n"
                  "try:\n    os.fork(); print('FOR' + 'KED')\nexcept OSError as error:\n    print(error)\n"
                  "print('prctl', ctypes.CDLL(None).prctl(1, 0, 0, 0, 0))")   # PR_SET_PDEATHSIG = 0
    assert "FORKED" not in text and "prctl -1" in text, text


def test_a_sandbox_dies_with_its_worker():
    """However the grader ends (a kill, a crash), its sandboxes end with it: here the worker's
    process starter is killed while a sandbox runs a lingering thread."""
    worker = Worker(None, sandbox.claim_slot(), sandbox.Limits(cell_seconds=20), isolation.view_for(),
                    isolation.choose_mode())
    box = worker._sandbox()
    box.execute("import ctypes, threading, time\n"
                "def _linger():\n    ctypes.CDLL(None).prctl(15, b'cnn-orphan', 0, 0, 0)\n    time.sleep(60)\n"
                "threading.Thread(target=_linger).start()")
    time.sleep(0.2)
    assert _comm_processes("cnn-orphan")
    os.kill(worker._forker.pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _comm_processes("cnn-orphan") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _comm_processes("cnn-orphan") == []
    box.pid = None  # already gone with its starter
    worker._spare = None
    worker._forker._channel.close()
    worker._forker._channel = None
    sandbox.collect_orphans()


def test_a_shown_folder_under_tmp_stays_visible():
    """A checkout (and its venv) may live under /tmp: it is bound inside the private /tmp."""
    import tempfile
    folder = tempfile.mkdtemp(prefix="shown-", dir="/tmp")
    try:
        Path(folder, "runtime.txt").write_text("the student runtime")
        os.chmod(folder, 0o755)
        made = Worker(None, sandbox.claim_slot(), sandbox.Limits(cell_seconds=20),
                      isolation.view_for(runtime_paths=[folder]), isolation.choose_mode())
        try:
            (text,) = run(made, f"print(open({folder + '/runtime.txt'!r}).read())")
        finally:
            made.close()
        assert "the student runtime" in text
    finally:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)
