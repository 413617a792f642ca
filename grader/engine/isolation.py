"""What a student's process may see and do: the isolation a sandbox enters before any student code.

Three modes, chosen once per run (``choose_mode``) and never silently weakened:

* ``namespaces`` (preferred, as root or as an ordinary user): the process gets new user (unless
  root), mount, PID, network, IPC and UTS namespaces. Its file system is a fresh tmpfs holding only
  an allowlist, read-only: the system's libraries, the Python environment and the student
  runtime; plus a private scratch ``/tmp`` and ``/dev/shm``. It is PID 1 of its own PID namespace,
  so when it dies every process and thread it started dies with it, and its IPC namespace takes
  its System V objects along. It has no capabilities left, a seccomp filter (when libseccomp is
  there) and resource limits.
* ``landlock``: where user namespaces are not allowed (Ubuntu's AppArmor restriction, Docker's
  seccomp profile). Landlock (no privilege needed) limits file access to the same allowlist,
  read-only, with nothing writable, and keeps signals and abstract sockets inside the sandbox;
  seccomp forbids sockets, ptrace, System V IPC, new namespaces and processes, and changing
  other processes or files' metadata.
* ``unsafe``: resource limits only, used only when the instructor asks for it
  (``--unsafe-no-isolation``); the summary says so.

Libraries: pyseccomp (libseccomp's filter compiler) and landlock (the Landlock system calls).
"""
import ctypes
import errno
import os
import resource
import signal
import sys
import sysconfig
from dataclasses import dataclass

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP = 0x10000000, 0x20000000, 0x40000000, 0x02000000
CLONE_THREAD = 0x00010000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 0x1, 0x2, 0x4, 0x8, 0x20
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 0x40000
MNT_DETACH = 2
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV, AT_RECURSIVE = 0x1, 0x2, 0x4, 0x8000
SYS_PIVOT_ROOT, SYS_MOUNT_SETATTR, SYS_CAPSET = 155, 442, 126   # x86_64
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4

SANDBOX_UID = 1000            # the student's uid inside an unprivileged user namespace
FIRST_UID = 61000             # as root, sandbox slot n runs as uid FIRST_UID + n
# Where the new root is assembled (a tmpfs mounted over it, in the sandbox's mount namespace only):
# the first of these that holds none of the paths to show.
NEW_ROOT_CANDIDATES = ("/tmp", "/mnt", "/media", "/srv", "/opt", "/var", "/home")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")
# Of /etc only what the dynamic loader and Python need; users and groups are made up.
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/nsswitch.conf")
# Environment variables students' code may see; every other one (tokens, keys, paths of the
# instructor's) is dropped before the grader's worker processes even start.
ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "PYTHONPATH", "PYTHONWARNINGS", "PYTHONHASHSEED",
               "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_libc = ctypes.CDLL(None, use_errno=True)


class IsolationUnavailable(Exception):
    """This machine cannot isolate students' code in the mode asked for."""


@dataclass(frozen=True)
class View:
    """The paths a sandbox shows, read-only: computed once by the trusted worker before forking."""
    directories: tuple = ()
    files: tuple = ()
    symlinks: tuple = ()          # (path, target): /bin -> usr/bin on merged-/usr systems
    hidden: tuple = ()            # inside a shown directory but never shown (belt and braces)
    assembly: str = "/tmp"        # where the new root is put together (see NEW_ROOT_CANDIDATES)


def worker_environment(base=None, extra=None):
    """The environment of the grader's worker processes: the allowlist only (see ENVIRONMENT)."""
    base = os.environ if base is None else base
    env = {name: base[name] for name in ENVIRONMENT if name in base}
    env.setdefault("PATH", "/usr/bin:/bin")
    env["HOME"] = base.get("HOME", "/")  # the worker's own caches (IPython, matplotlib); never shown
    env.update(extra or {})
    return env


def view_for(runtime_paths=(), hidden=()):
    """What students' code may read: the system's libraries and programs, the Python environment
    (interpreter, standard library, installed packages) and the student runtime. Nothing else of
    the course's folder, of the instructor's home or of /etc."""
    directories, symlinks = [], []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            symlinks.append((top, os.readlink(top)))
        elif os.path.isdir(top):
            directories.append(top)
    python = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
    python |= {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    python |= {p for p in sys.path if p and any(os.path.realpath(p).startswith(os.path.realpath(q) + "/")
                                                 for q in (sys.prefix, sys.base_prefix))}
    try:
        import site
        python.add(site.getusersitepackages())
    except Exception:
        pass
    python |= set(runtime_paths)
    directories += [os.path.realpath(p) for p in python if p and os.path.isdir(p)]
    files = [p for p in ETC_FILES if os.path.isfile(p)]
    if os.path.isdir("/etc/ld.so.conf.d"):
        directories.append("/etc/ld.so.conf.d")
    directories = _outermost(directories)
    shown = directories + files
    assembly = next((c for c in NEW_ROOT_CANDIDATES if os.path.isdir(c) and not os.path.islink(c)
                     and not any(p == c or p.startswith(c + "/") for p in shown)), None)
    if assembly is None:
        raise IsolationUnavailable("no folder to assemble the sandbox's root in: "
                                   f"each of {', '.join(NEW_ROOT_CANDIDATES)} holds a path it must show")
    return View(tuple(directories), tuple(files), tuple(symlinks),
                tuple(os.path.realpath(p) for p in hidden), assembly)


def _outermost(paths):
    paths = sorted(set(paths))
    return [p for p in paths if not any(p.startswith(q.rstrip("/") + "/") for q in paths if q != p)]


# ------------------------------------------------------------------ choosing a mode

def choose_mode(wanted="auto"):
    """The strongest mode this machine allows (``wanted`` "auto"), or ``wanted`` itself if it is
    available; IsolationUnavailable saying why not, otherwise. Tried in a forked child."""
    if wanted == "unsafe":
        return "unsafe"
    reasons = {}
    for mode in (("namespaces", "landlock") if wanted == "auto" else (wanted,)):
        problem = _probe(mode)
        if problem is None:
            return mode
        reasons[mode] = problem
    raise IsolationUnavailable("; ".join(f"{mode}: {why}" for mode, why in reasons.items()))


def _probe(mode):
    """None if ``mode`` can be entered here, else why not (found in a throw-away child)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        message = b""
        try:
            if mode == "namespaces":
                _unshare(os.geteuid())
                child = os.fork()
                if child == 0:
                    os._exit(0)
                os.waitpid(child, 0)
            elif mode == "landlock":
                _landlock_abi()
                if not seccomp_program(mode):
                    raise IsolationUnavailable("libseccomp or pyseccomp is missing")
                _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
                _load_seccomp(seccomp_program(mode))
        except Exception as error:
            message = f"{type(error).__name__}: {error}".encode()
        os.write(write_end, message[:500])
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        problem = reader.read().decode()
    os.waitpid(pid, 0)
    return problem or None


# ------------------------------------------------------------------ entering the sandbox

def enter(mode, view, limits, slot, receive_fd, send_fd, scratch=None, in_namespaces=False):
    """Isolate this (forked, single-threaded) process before any student code runs. Returns what
    applied, in the process that runs the student's code.

    In ``namespaces`` mode this process only unshares its namespaces and forks the sandbox, PID 1
    of the new PID namespace; it then waits for it and exits as it did, so it never returns. The
    trusted side ends the sandbox by sending this process SIGTERM: it kills the sandbox, its own
    child, whose pid no other process can have taken while it is not collected. With
    ``in_namespaces`` this process is already PID 1 of its new namespaces (fork_into_namespaces)."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the grader dies: so does the sandbox
    if not in_namespaces:  # PID 1 of its namespaces makes a session of its own below (setsid)
        os.setpgid(0, 0)
    root = os.geteuid() == 0
    memory_now = _mapped_bytes()
    if mode == "namespaces":
        if not in_namespaces:
            _unshare(os.geteuid())
            pid = os.fork()
            if pid:
                _wait_and_exit(pid, (receive_fd, send_fd))
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # its parent dies: the whole namespace dies
        # A session and process group of its own: as an ordinary user it shares its uid with its
        # parent, which kill(0, ...) on a shared group would reach.
        os.setsid()
        applied = ["own " + ("" if root else "user, ") + "PID, mount, network, IPC and UTS namespaces"]
        applied += _build_root(view, limits)
        home = "/tmp"
    elif mode == "landlock":
        # Nothing writable: a folder on the instructor's disk could be filled or left behind, and
        # no tmpfs can be had without namespaces. It starts in the (read-only) environment.
        home = view.directories[-1] if view.directories else "/"
        applied = []
    else:
        home = scratch
        os.makedirs(home, mode=0o700, exist_ok=True)
        applied = ["NO ISOLATION (--unsafe-no-isolation): resource limits only"]
    os.chdir(home)
    _clean_environment(home, view)
    for fd in (0, 1, 2):  # what the student writes to the raw descriptors goes nowhere
        os.dup2(os.open(os.devnull, os.O_RDWR), fd)
    close_descriptors_except((receive_fd, send_fd))
    separate_user = root or mode == "namespaces"
    _set_limits(limits, memory_now, processes=separate_user)
    if separate_user and mode != "unsafe":
        _drop_bounding_set()  # needs CAP_SETPCAP (root, or its own user namespace): before the uid change
    if root and mode != "unsafe":
        uid = FIRST_UID + slot
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # changing uid cleared it
        _libc.prctl(PR_SET_DUMPABLE, 1)  # /proc/<pid> of its processes belong to its uid
        applied.append(f"uid {uid}")
    if mode != "unsafe":
        _drop_capabilities()
        applied.append("no capabilities")
    _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if mode == "landlock":
        _apply_landlock(view)
        applied.append(f"Landlock (ABI {_landlock_abi()}): only the Python environment and the student "
                       f"runtime readable, nothing writable" + (", no signals out" if _landlock_abi() >= 6 else ""))
    if mode != "unsafe":
        program = seccomp_program(mode)
        if program:
            _load_seccomp(program)
            applied.append("seccomp filter")
        elif mode == "landlock":
            raise IsolationUnavailable("libseccomp or pyseccomp is missing")
    applied.append("limits on CPU, memory, files" + (", processes" if separate_user else ""))
    return applied


def _wait_and_exit(pid, fds):
    """The namespace's parent: wait for the sandbox and end as it ended (killed by the same signal,
    or with the same exit code); SIGTERM from the trusted side kills the sandbox first."""
    code = 1
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        for fd in fds:
            os.close(fd)
        signal.signal(signal.SIGTERM, lambda *_: os.kill(pid, signal.SIGKILL))
        _, status = os.waitpid(pid, 0)
        if os.WIFSIGNALED(status):
            signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
            os.kill(os.getpid(), os.WTERMSIG(status))
        code = os.waitstatus_to_exitcode(status)
    finally:
        os._exit(code)


def _mapped_bytes():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * resource.getpagesize()
    except OSError:
        return 0


def _namespace_flags(euid):
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    return flags if euid == 0 else flags | CLONE_NEWUSER


def _unshare(euid):
    gid = os.getegid()
    _check(_libc.unshare(_namespace_flags(euid)), "unshare")
    if euid != 0:
        _map_user(euid, gid)


def _map_user(euid, gid):
    """Map the sandbox's uid and gid in its new user namespace to the instructor's (outside it)."""
    for name, text in (("setgroups", "deny"), ("uid_map", f"{SANDBOX_UID} {euid} 1"),
                       ("gid_map", f"{SANDBOX_UID} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(text)


# ------------------------------------------------------------------ one fork into new namespaces
# unshare(CLONE_NEWPID) puts only the caller's next child in the new PID namespace, so a sandbox
# made that way costs two forks of the worker's large process (about 12 ms of CPU each, for its
# page tables): the sandbox's parent, then the sandbox. clone(2) with the namespace flags makes
# the sandbox PID 1 of its namespaces in one fork. Python's os.fork cannot pass flags, so the
# system call is made here, with CPython's own steps around it (PyOS_BeforeFork and
# PyOS_AfterFork_*, public C API) as os.fork runs them; the caller (the worker's Forker) is
# single-threaded, so no lock is held by another thread at the fork. glibc's fork also stores the
# child's thread id in its thread descriptor: CLONE_CHILD_SETTID has the kernel do that.
SYS_CLONE, CLONE_CHILD_SETTID = 56, 0x01000000                       # x86_64
GLIBC_TID_OFFSET = 720        # offsetof(struct pthread, tid), glibc 2.26 and later on x86_64
_python_libc = ctypes.PyDLL(None, use_errno=True)  # keeps the GIL through the call, as os.fork does
_python_libc.syscall.restype = ctypes.c_long


def _thread_id_address():
    """Where glibc keeps this thread's id, checked against the kernel's; None if it is elsewhere."""
    if not sys.platform.startswith("linux") or os.uname().machine != "x86_64":
        return None
    _libc.pthread_self.restype = ctypes.c_void_p
    address = _libc.pthread_self() + GLIBC_TID_OFFSET
    import threading
    return address if ctypes.c_int.from_address(address).value == threading.get_native_id() else None


def can_fork_into_namespaces():
    """True where fork_into_namespaces works (Linux on x86_64 with glibc's usual layout)."""
    return _thread_id_address() is not None


def fork_into_namespaces():
    """os.fork() whose child is PID 1 of new PID, mount, network, IPC and UTS namespaces, and of a
    new user namespace unless root (its uid mapped as ``_unshare`` maps it). 0 in the child."""
    euid, gid, tid_address = os.geteuid(), os.getegid(), _thread_id_address()
    if tid_address is None:
        raise IsolationUnavailable("this system's C library keeps its thread ids elsewhere")
    flags = _namespace_flags(euid) | signal.SIGCHLD | CLONE_CHILD_SETTID
    ctypes.pythonapi.PyOS_BeforeFork()
    pid = _python_libc.syscall(ctypes.c_long(SYS_CLONE), ctypes.c_ulong(flags), None, None,
                               ctypes.c_void_p(tid_address), None)
    error = ctypes.get_errno()
    if pid == 0:
        ctypes.pythonapi.PyOS_AfterFork_Child()
        if euid != 0:
            _map_user(euid, gid)
        return 0
    ctypes.pythonapi.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(error, f"clone into new namespaces: {os.strerror(error)}")
    return pid


def _build_root(view, limits):
    """A new root file system on a tmpfs holding the allowlist, then pivot_root into it."""
    new_root = view.assembly
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=755")
    # The scratch folders first: a shown path may lie under /tmp (a checkout there, its venv), and
    # is then bound inside the private /tmp, not hidden by it.
    for scratch, size in (("/tmp", limits.scratch_bytes), ("/dev/shm", 16 << 20)):
        os.makedirs(new_root + scratch, exist_ok=True)
        _mount("tmpfs", new_root + scratch, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for path, target in view.symlinks:
        os.symlink(target, new_root + path)
    for path in view.directories:
        _bind_read_only(path, new_root + path, directory=True)
    for path in view.files:
        _bind_read_only(path, new_root + path, directory=False)
    for path in view.hidden:
        if os.path.isdir(new_root + path):
            _mount("tmpfs", new_root + path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k")
        elif os.path.exists(new_root + path):
            _mount("/dev/null", new_root + path, None, MS_BIND)
    for device in DEVICES:
        target = new_root + device
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").close()
        _mount(device, target, None, MS_BIND)
    os.makedirs(new_root + "/etc", exist_ok=True)
    with open(new_root + "/etc/passwd", "w") as passwd:
        passwd.write(f"student:x:{os.getuid()}:{os.getgid()}:student:/tmp:/bin/sh\n")
    with open(new_root + "/etc/group", "w") as group:
        group.write(f"student:x:{os.getgid()}:\n")
    os.makedirs(new_root + "/proc")
    applied = []
    try:  # a /proc of its own PID namespace: it shows only the sandbox's processes
        _mount("proc", new_root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        applied.append("no /proc")
    os.chdir(new_root)
    _check(_libc.syscall(SYS_PIVOT_ROOT, b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", MNT_DETACH), "umount of the old root")
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _libc.sethostname(b"sandbox", 7)
    return ["only the Python environment and the student runtime visible, read-only",
            "private scratch /tmp", "no network"] + applied


def _bind_read_only(source, target, directory):
    if directory:
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "w").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    attributes = _MountAttr(MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
    if _libc.syscall(SYS_MOUNT_SETATTR, -100, os.fsencode(target), AT_RECURSIVE,
                     ctypes.byref(attributes), ctypes.sizeof(attributes)) != 0:
        # Kernels before 5.12: remount read-only, keeping the flags the original mount locks.
        locked = os.statvfs(source).f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | 0x400 | 0x800 | 0x1000)
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | locked)


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source and os.fsencode(source), os.fsencode(target), fstype and os.fsencode(fstype),
                       flags, data and data.encode()), f"mount on {target}")


def _check(result, what):
    if result != 0:
        number = ctypes.get_errno()
        raise OSError(number, f"{what} failed: {os.strerror(number)}")


def _clean_environment(home, view):
    # The worker's own environment is already the allowlist plus the course's variables (see
    # worker_environment): what the sandbox keeps of it.
    kept = {name: value for name, value in os.environ.items() if name not in ("HOME", "GRADER_PARENT_PID")}
    os.environ.clear()
    os.environ.update(kept, HOME=home, TMPDIR=home, IPYTHONDIR=os.path.join(home, ".ipython"),
                      MPLCONFIGDIR=home, USER="student", LOGNAME="student")


def _set_limits(limits, memory_now, processes):
    vm = memory_now
    settings = [(resource.RLIMIT_CPU, limits.cpu_seconds), (resource.RLIMIT_FSIZE, limits.file_bytes),
                (resource.RLIMIT_CORE, 0)]
    if vm:
        settings.append((resource.RLIMIT_AS, vm + limits.memory_bytes))
    for limit, value in settings:
        resource.setrlimit(limit, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing
    if processes:  # counted per user (namespace): only meaningful with a uid or namespace of its own
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))


def _drop_bounding_set():
    """No capability can be had again, even by an exec (bounding and ambient sets emptied)."""
    for capability in range(_LAST_CAPABILITY + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0), f"dropping capability {capability}")
    _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)


def _last_capability():
    try:
        with open("/proc/sys/kernel/cap_last_cap") as last:
            return int(last.read())
    except OSError:
        return 40


_LAST_CAPABILITY = _last_capability()


def _drop_capabilities():
    """No capability left in the effective, permitted and inheritable sets."""
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)   # _LINUX_CAPABILITY_VERSION_3, this thread
    data = (ctypes.c_uint32 * 6)()                  # effective, permitted, inheritable: all empty
    _check(_libc.syscall(SYS_CAPSET, header, data), "capset")


# ------------------------------------------------------------------ seccomp and Landlock

_ALWAYS_DENIED = ("fork", "vfork", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "unshare", "setns", "mount",
                  "umount2", "pivot_root", "chroot", "keyctl", "add_key", "request_key", "bpf",
                  "perf_event_open", "userfaultfd", "open_by_handle_at", "name_to_handle_at", "kexec_load",
                  "init_module", "finit_module", "delete_module", "swapon", "swapoff", "reboot",
                  "fanotify_init", "quotactl", "acct", "setdomainname", "sethostname", "mount_setattr",
                  "move_mount", "open_tree", "fsopen", "fsmount", "fsconfig", "fspick", "io_uring_setup")
# No IPC namespace, and Landlock leaves metadata alone: in landlock mode these are denied too.
_LANDLOCK_ALSO_DENIED = ("shmget", "shmat", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget",
                         "msgsnd", "msgrcv", "msgctl", "mq_open", "socketpair", "chmod", "fchmod", "fchmodat",
                         "fchmodat2", "chown", "fchown", "lchown", "fchownat", "utime", "utimes", "utimensat",
                         "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr",
                         "fremovexattr", "process_madvise", "pidfd_getfd")
AF_UNIX = 1
TIOCSTI = 0x5412


def _seccomp_filter(mode):
    """A filter that denies (EPERM) what students' code never needs and could use against others:
    tracing or reading other processes, new namespaces, mounts, the kernel keyring (shared by
    everything of a uid), kernel modules, typing into a terminal (TIOCSTI), sockets other than
    Unix ones, changing its parent-death signal (what ends it with the grader), and new processes:
    threads only, so the sandbox's memory limit is the whole sandbox's. In ``landlock`` mode, where
    it shares the instructor's uid and no namespace hides anything, also: every socket, System V
    IPC, changing files' owners, modes, times and attributes (Landlock does not cover them), and
    acting on other processes' limits, priorities or memory."""
    import pyseccomp as seccomp
    deny = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(seccomp.ALLOW)
    for name in _ALWAYS_DENIED + (_LANDLOCK_ALSO_DENIED if mode == "landlock" else ()):
        try:
            rules.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):  # a call this kernel or libseccomp does not know
            pass
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")  # its flags are out of reach: libc falls back to clone
    rules.add_rule(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_THREAD, 0))
    rules.add_rule(deny, "prctl", seccomp.Arg(0, seccomp.EQ, PR_SET_PDEATHSIG))
    rules.add_rule(deny, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    if mode == "landlock":
        for name in ("prlimit64", "sched_setaffinity", "sched_setparam", "sched_setscheduler", "sched_setattr",
                     "migrate_pages", "move_pages", "get_robust_list"):
            rules.add_rule(deny, name, seccomp.Arg(0, seccomp.NE, 0))      # another process than itself
        rules.add_rule(deny, "setpriority", seccomp.Arg(1, seccomp.NE, 0))
        rules.add_rule(deny, "ioprio_set", seccomp.Arg(1, seccomp.NE, 0))
        rules.add_rule(deny, "socket")
        if _landlock_abi() < 6:  # Landlock cannot keep signals in: no signals
            for name in ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open",
                         "pidfd_send_signal", "pidfd_getfd"):
                rules.add_rule(deny, name)
    else:
        rules.add_rule(deny, "socket", seccomp.Arg(0, seccomp.NE, AF_UNIX))
    return rules


_programs = {}


def prepare(mode):
    """In the trusted worker, before it forks sandboxes: the work every sandbox would repeat."""
    seccomp_program(mode)
    if mode == "landlock":
        _landlock_abi()


def seccomp_program(mode):
    """The compiled BPF program of the filter (``_seccomp_filter``), b"" without libseccomp.
    Compiling takes about 20 ms, so the trusted worker does it once, before it forks sandboxes;
    a sandbox only loads the bytes (well under a millisecond)."""
    if mode not in _programs:
        try:
            rules = _seccomp_filter(mode)
        except (ImportError, OSError):
            _programs[mode] = b""
        else:
            read_end, write_end = os.pipe()
            try:
                with os.fdopen(write_end, "wb") as writer:
                    rules.export_bpf(writer)
                with os.fdopen(read_end, "rb") as reader:
                    _programs[mode] = reader.read()
            except Exception:
                os.close(read_end)
                raise
    return _programs[mode]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_seccomp(program):
    PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))  # 8 bytes an instruction
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def _landlock_abi():
    from landlock import landlock_abi_version
    ctypes.set_errno(0)  # the library reads errno even after a call that succeeded
    abi = landlock_abi_version()
    if abi < 1:
        raise IsolationUnavailable("Landlock is not enabled in this kernel")
    return abi


class _RulesetAttr(ctypes.Structure):
    # landlock_ruleset_attr of ABI 6: file system rights, network rights, scopes
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def _apply_landlock(view):
    """Read (and run) the allowlist, write only to /dev/null and the like, nothing else; from ABI
    6 on, no signal and no abstract Unix socket reaches a process outside the sandbox. The landlock
    package gives the access rights and the rule's layout; the three system calls are made here,
    since the package's ruleset predates scopes (ABI 6)."""
    from landlock.plumbing import FSAccess, PathBeneathAttr
    abi = _landlock_abi()
    handled = FSAccess.all()
    attributes = _RulesetAttr(handled, 0, 0b11 if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else ctypes.sizeof(ctypes.c_uint64)
    ruleset = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attributes), ctypes.c_size_t(size), 0)
    if ruleset < 0:
        _check(-1, "landlock_create_ruleset")
    read = FSAccess.EXECUTE | FSAccess.READ_FILE | FSAccess.READ_DIR
    try:
        for paths, rights in ((view.directories + view.files, read), (DEVICES, read | FSAccess.WRITE_FILE)):
            for path in paths:
                if not os.path.exists(path):
                    continue
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                try:
                    allowed = rights if os.path.isdir(path) else rights & FSAccess.all_file()
                    rule = PathBeneathAttr(allowed, fd)
                    _check(_libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, 1, ctypes.byref(rule), 0),
                           f"landlock_add_rule for {path}")
                finally:
                    os.close(fd)
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def close_descriptors_except(keep_fds):
    """Close every inherited descriptor above stderr but ``keep_fds``."""
    previous = 2
    for fd in sorted(keep_fds) + [65536]:
        os.closerange(previous + 1, fd)
        previous = fd


# ------------------------------------------------------------------ per-user state

def state_dir(base=None):
    """The grader's private folder for locks and scratch: made safely, owned by this user, closed
    to others (never a shared path in /tmp, where another user could plant files or symlinks)."""
    if base is not None:
        pass
    elif os.geteuid() == 0:
        base = "/run/cnn-grader"
    elif os.environ.get("XDG_RUNTIME_DIR"):
        base = os.path.join(os.environ["XDG_RUNTIME_DIR"], "cnn-grader")
    else:
        base = os.path.join(os.path.expanduser("~"), ".cache", "cnn-grader")
    os.makedirs(os.path.dirname(base), mode=0o700, exist_ok=True)
    try:
        os.mkdir(base, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(base)
    import stat
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise IsolationUnavailable(f"{base} must be a folder of your own that only you can open "
                                   f"(it is not: remove it and run again)")
    return base
