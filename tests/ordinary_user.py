"""Run the grader as an ordinary user, as an instructor on a JupyterHub does: a user made for the
test (root only), a course folder of theirs, and the course's Python environment, which they may
run but not change."""
import os
import pwd
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

USER = "cnn-grader-test"
REPO = Path(__file__).resolve().parents[1]


def available():
    """Why the ordinary-user tests cannot run here, or None."""
    if os.geteuid() != 0:
        return "making an ordinary user for the test needs root (CI runs as root)"
    if not Path("/usr/sbin/useradd").exists() or not Path("/usr/sbin/runuser").exists():
        return "useradd and runuser are needed"
    return None


def ensure_user():
    """The test's user (made once); (uid, gid)."""
    try:
        entry = pwd.getpwnam(USER)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", USER], check=True)
        entry = pwd.getpwnam(USER)
    return entry.pw_uid, entry.pw_gid


def scratch_folder():
    """A new folder in the user's home (made by root: ``give`` it to the user once filled)."""
    import tempfile
    ensure_user()
    return Path(tempfile.mkdtemp(prefix="course-test-", dir=pwd.getpwnam(USER).pw_dir))


def give(path, uid, gid):
    """Make ``path`` (a folder tree) the user's."""
    for folder, dirs, files in os.walk(path):
        os.chown(folder, uid, gid)
        for name in files:
            os.chown(os.path.join(folder, name), uid, gid, follow_symlinks=False)


@contextmanager
def reachable(*paths):
    """Let every user pass through (not read) the folders above ``paths`` while the test runs: a
    checkout under /root, say, or pyenv's Python. Modes are put back afterwards."""
    changed = {}
    for path in paths:
        for folder in Path(os.path.realpath(path)).parents:
            mode = folder.stat().st_mode
            if folder not in changed and not mode & stat.S_IXOTH:
                changed[folder] = mode
                os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
    try:
        yield
    finally:
        for folder, mode in changed.items():
            os.chmod(folder, stat.S_IMODE(mode))


def environment_paths():
    """What the user must be able to reach: the interpreter, the environment, the course's code."""
    return [sys.executable, os.path.realpath(sys.executable), sys.prefix, sys.base_prefix, str(REPO)]


def command(args, env):
    """``args`` run as the test's user with exactly ``env``."""
    return ["runuser", "-u", USER, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()], *map(str, args)]


def processes_of(uid):
    """Pids of the living processes whose real uid is ``uid`` (threads looked at one by one: a process whose main
    thread exited may live on in another)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                real_uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
            if real_uid != uid:
                continue
            states = [open(f"/proc/{entry}/task/{task}/stat").read().rsplit(")", 1)[1].split()[0]
                      for task in os.listdir(f"/proc/{entry}/task")]
        except OSError:
            continue
        if any(state not in ("Z", "X") for state in states):
            found.append(int(entry))
    return found
