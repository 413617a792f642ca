"""A student's code in a process of its own, forked from a grader that has imported MXNet.

The trusted side (``Sandbox``) sends cell sources and check inputs; the sandboxed child runs them
and sends back only plain data (see protocol.py). The child enters its isolation (isolation.py:
its own namespaces with an allowlisted, read-only view of the files, or Landlock and seccomp
where namespaces are not allowed) before any student code runs, has limits on CPU time, memory,
processes, file size and captured output, and is killed by the trusted side when a cell or a
check runs too long.

Forking after ``import mxnet`` costs tens of milliseconds instead of seconds for a fresh kernel.
"""
import ctypes
import gc
import io
import os
import signal
import socket
import struct
import sys
import time
from dataclasses import dataclass

from . import i18n, isolation, protocol
from .isolation import FIRST_UID, close_descriptors_except

_ = i18n.translator("engine")

PR_SET_PDEATHSIG, PR_SET_CHILD_SUBREAPER = 1, 36


@dataclass(frozen=True)
class Limits:
    cell_seconds: float = 60.0        # wall time of one notebook cell (nbgrader's cell timeout here)
    check_seconds: float = 20.0       # wall time of the student's code on one case of a check
    cpu_seconds: int = 300            # CPU time of one sandboxed process
    memory_bytes: int = 2 << 30       # address space on top of what the process had when forked
    processes: int = 128              # threads and processes of the sandbox's uid (MXNet starts ~10)
    output_bytes: int = 1 << 20       # captured stdout + stderr per cell; the rest is counted, not kept
    file_bytes: int = 16 << 20        # largest file the student may write (in the scratch tmpfs)
    scratch_bytes: int = 64 << 20     # size of the scratch tmpfs
    notebook_seconds: float = 300.0   # wall time of a whole notebook, replays after a crash included


def claim_slot(limit=1000):
    """A sandbox slot no other grader of this user on this machine uses (as root, slot n runs as
    uid FIRST_UID + n, and closing a sandbox kills every process of its uid). The locks live in
    the user's own state folder (isolation.state_dir), never in a shared one. Held until this
    process exits."""
    import fcntl
    folder = os.open(os.path.join(isolation.state_dir()), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for slot in range(limit):
            fd = os.open(f"slot-{slot}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                         dir_fd=folder)
            handle = os.fdopen(fd, "r+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            _claimed.append(handle)  # kept open: the lock lasts as long as this process
            return slot
    finally:
        os.close(folder)
    raise RuntimeError(f"all {limit} sandbox slots of this machine are in use")


_claimed = []


def release_inherited_slots():
    """In a forked child: close its copies of the parent's slot locks (the parent keeps them)."""
    while _claimed:
        _claimed.pop().close()


class SandboxFailure(Exception):
    """The sandboxed process died, ran out of time, or answered nonsense."""


class Sandbox:
    """Trusted side of one sandboxed process."""

    _parent_of_namespace = False   # ``pid`` is the parent of the sandbox's PID namespace
    _init_of_namespace = False     # ``pid`` is the sandbox itself, PID 1 of its PID namespace
    _scratch = None                # its scratch folder, when not a tmpfs of its own (removed on close)

    def __init__(self, forker, slot=0, limits=Limits(), scratch=None, namespaces=False, in_one_fork=False):
        """Started by ``forker`` (see Forker), whose "sandbox" target runs _child_main. With
        ``namespaces`` and ``in_one_fork`` the forker clones it straight into its namespaces."""
        self.limits, self.slot, self._forker, self._scratch = limits, slot, forker, scratch
        self._init_of_namespace = namespaces and in_one_fork
        self._parent_of_namespace = namespaces and not in_one_fork
        self.pid, self._send_fd, self._receive_fd = forker.start(
            "sandbox", {"scratch": scratch, "in_namespaces": self._init_of_namespace})
        hello = self._request({"op": "hello"}, 30)
        if "fatal" in hello:
            self.close()
            raise RuntimeError(f"the sandbox could not start: {hello['fatal']}")
        self.isolation = hello["isolation"]

    def execute(self, source, seconds=None):
        """Run a notebook cell: {"status": "ok"|"error", "outputs": [nbformat outputs]}; ``seconds``
        (default: the cell's limit) may be less when the notebook's budget runs low."""
        reply = self._request({"op": "exec", "source": source}, seconds or self.limits.cell_seconds)
        if not isinstance(reply, dict) or reply.get("status") not in ("ok", "error") \
                or not isinstance(reply.get("outputs"), list):
            self.close()
            raise SandboxFailure(_("its process sent an answer of the wrong form"))
        return reply

    def call(self, check_id, text, inputs, seed, seconds=None):
        """Run the student's side of one case: ("result", plain data) or ("problem", message)."""
        reply = self._request({"op": "call", "check": check_id, "text": text, "inputs": inputs, "seed": seed},
                              seconds or self.limits.check_seconds)
        if not isinstance(reply, dict) or len(reply) != 1 or not set(reply) <= {"result", "problem"}:
            raise SandboxFailure(_("its process sent an answer of the wrong form"))
        (kind, value), = reply.items()
        if kind == "problem" and not isinstance(value, str):
            raise SandboxFailure(_("its process sent an answer of the wrong form"))
        return kind, value

    def _request(self, message, seconds):
        if self.pid is None:
            raise SandboxFailure(_("its process had already stopped"))
        # One deadline for the request and the whole reply: a process that stops reading its input
        # or writes half a message must not hold the grader.
        deadline = time.monotonic() + seconds
        # The student's process speaks the submission's language: what it says itself (a check's
        # problem, an error's description) is made there (_serve sets COURSE_LANGUAGE).
        message = dict(message, language=i18n.current_language())
        try:
            protocol.send(self._send_fd, message, deadline=deadline)
            return protocol.receive(self._receive_fd, deadline=deadline)
        except (EOFError, OSError):
            raise self._died() from None
        except protocol.Timeout:
            self.close()
            raise SandboxFailure(_("it ran longer than {seconds} s and was stopped").format(seconds=f"{seconds:g}")) from None
        except protocol.ProtocolError as error:
            self.close()
            raise SandboxFailure(_("its process sent something that is not an answer ({error})").format(
                error=error)) from None

    def _died(self):
        status = self.close()
        if status is not None and os.WIFSIGNALED(status):
            name = signal.Signals(os.WTERMSIG(status)).name
            if name == "SIGXCPU":
                reason = _("it used more than its CPU time")
            elif name == "SIGKILL":
                reason = _("its process was killed")
            else:
                reason = _("its process died of {signal}").format(signal=name)
        elif status is not None and os.WIFEXITED(status):
            reason = _("its process exited (code {code})").format(code=os.WEXITSTATUS(status))
        else:
            reason = _("its process stopped")
        return SandboxFailure(reason)

    def close(self):
        """Kill the process (and anything it started in its process group); its exit status."""
        if self.pid is None:
            return None
        pid, self.pid = self.pid, None
        for fd in (self._send_fd, self._receive_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        if self._init_of_namespace:
            # The death of PID 1 ends every process and thread of its namespace; the forker's
            # wait returns once they are all gone.
            _kill(pid, signal.SIGKILL)
            status = self._forker.wait(pid, seconds=5)
        elif self._parent_of_namespace:
            # It kills PID 1 of the sandbox's PID namespace, whose death ends every process and
            # thread in it, then exits once they are all gone (isolation._wait_and_exit).
            _kill(pid, signal.SIGTERM)
            status = self._forker.wait(pid, seconds=5)
        else:
            for target in (-pid, pid):
                _kill(target)
            status = self._forker.wait(pid)
            _reap_uid(FIRST_UID + self.slot)
        if self._scratch:
            import shutil
            shutil.rmtree(self._scratch, ignore_errors=True)
        return status


def _kill(target, number=signal.SIGKILL):
    try:
        os.kill(target, number)
    except OSError:
        pass


def fork_child(main, into_namespaces=False):
    """Fork a child running ``main(receive_fd, send_fd)`` with a pipe each way, which exits when
    main ends (status 0, or 1 if it raised); (pid, send_fd, receive_fd) of the parent's ends.
    ``into_namespaces``: the child is PID 1 of new namespaces (isolation.fork_into_namespaces)."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    gc.freeze()  # the child's garbage collector leaves the inherited objects (and their pages) alone
    try:
        pid = isolation.fork_into_namespaces() if into_namespaces else os.fork()
    except OSError:
        for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
            os.close(fd)
        raise
    if pid == 0:
        status = 1
        try:
            os.close(to_child_w)
            os.close(from_child_r)
            main(to_child_r, from_child_w)
            status = 0
        finally:
            os._exit(status)
    os.close(to_child_r)
    os.close(from_child_w)
    return pid, to_child_w, from_child_r


_PID = struct.Struct("<q")


class Forker:
    """A trusted helper that starts a worker's processes and never sees a job.

    It is forked from the worker before the worker's first job (in a zygote: once the chapter's
    shared cells have run) and from then on receives only "start a sandbox", "start a zygote for
    these release cells" and "wait for that process". Every sandbox and zygote is therefore forked
    from a state that holds nothing of any job (no seeds, no cases, nothing of the judge's), even
    one started halfway through a job to replay a notebook after a crash.

    ``targets`` maps a name to ``main(receive_fd, send_fd, payload)``, run in the started child."""

    def __init__(self, targets):
        parent_end, child_end = socket.socketpair()
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                parent_end.close()
                ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with its worker
                become_subreaper()  # sandboxes' orphans come back here to be collected
                release_inherited_slots()  # as file objects: closing them later could close a reused fd
                close_descriptors_except((child_end.fileno(),))
                _serve_starts(child_end, targets)
                status = 0
            finally:
                os._exit(status)
        child_end.close()
        self.pid, self._channel = pid, parent_end

    def start(self, target, payload=None):
        """(pid, send_fd, receive_fd) of a new child of the forker running ``targets[target]``."""
        try:
            protocol.send(self._channel.fileno(), {"op": "start", "target": target, "payload": payload})
            data, fds, _, _ = socket.recv_fds(self._channel, _PID.size, 2)
        except OSError as error:
            raise RuntimeError(f"the grader's process starter failed ({error})") from None
        if len(data) != _PID.size or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise RuntimeError("the grader's process starter stopped")
        return _PID.unpack(data)[0], fds[0], fds[1]

    def wait(self, pid, seconds=None):
        """Exit status of a process it started, once it has exited; killed after ``seconds`` if
        given. None if unknown."""
        try:
            protocol.send(self._channel.fileno(), {"op": "wait", "pid": pid, "seconds": seconds})
            return protocol.receive(self._channel.fileno())["status"]
        except (OSError, EOFError, protocol.ProtocolError):
            return None

    def close(self):
        if self._channel is None:
            return
        self._channel.close()  # the forker's input ends: it exits
        self._channel = None
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


def _serve_starts(channel, targets):
    started, exited = set(), {}
    while True:
        try:
            request = protocol.receive(channel.fileno())
        except EOFError:
            return
        _collect_children(started, exited)
        if request["op"] == "start":
            main = targets[request["target"]]
            payload = request["payload"]

            def child(receive_fd, send_fd):
                channel.close()
                main(receive_fd, send_fd, payload)

            try:
                pid, send_fd, receive_fd = fork_child(child, bool((payload or {}).get("in_namespaces")))
            except OSError as error:  # the trusted side reads this as the starter failing, and why
                sys.stderr.write(f"the grader could not start a sandbox: {error}\n")
                raise
            started.add(pid)
            socket.send_fds(channel, [_PID.pack(pid)], [send_fd, receive_fd])
            os.close(send_fd)
            os.close(receive_fd)
        elif request["op"] == "wait":
            protocol.send(channel.fileno(), {"status": _wait_child(request["pid"], request["seconds"], started, exited)})


def _collect_children(started, exited):
    """Collect what has exited: sandboxes' orphans, and the processes this one started (their
    status is kept for ``wait``)."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid in started:
            started.discard(pid)
            exited[pid] = status


def _wait_child(pid, seconds, started, exited):
    if pid in exited:
        return exited.pop(pid)
    if pid not in started:
        return None
    try:
        if seconds is not None:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return status
                time.sleep(0.002)
            os.kill(pid, signal.SIGKILL)
        return os.waitpid(pid, 0)[1]
    except ChildProcessError:
        return None
    finally:
        started.discard(pid)


def _reap_uid(uid):
    """Kill every process of a sandbox's uid: what the student started may have left the process
    group (setsid) and may still be forking. Each slot has a uid of its own, so no other sandbox is
    touched. Orphans come back to this process (a child subreaper), which collects them, so none
    is left counting against the next sandbox's process limit."""
    if os.geteuid() != 0:
        return
    for _ in range(100):
        collect_orphans()
        if not _processes_of(uid):
            return
        pid = os.fork()
        if pid == 0:  # as that uid, signal all of its processes (kill(-1) reaches no other uid's)
            try:
                os.setresuid(uid, uid, uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)


def _processes_of(uid):
    """Living processes of ``uid`` (a sandbox's processes are dumpable, so their /proc entries
    belong to it). A process whose every thread is a zombie holds nothing and is left to its
    parent; one whose main thread exited while another runs shows "Z" yet lives on, so each
    thread is looked at."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid and _alive(entry):
                    found.append(int(entry))
            except OSError:
                pass
    return found


def _alive(pid):
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/stat") as stat:
            if stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                return True
    return False


def collect_orphans():
    while True:
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                return
        except ChildProcessError:
            return


def become_subreaper():
    """Orphaned processes of sandboxes are re-parented to this process, not to init."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)


# ------------------------------------------------------------------ the child

def _child_main(receive_fd, send_fd, slot, limits, view, mode, scratch, course, in_namespaces=False):
    """Isolate this process (isolation.enter), then serve requests until the pipe closes. Never
    returns."""
    status = 1
    try:
        try:
            applied = isolation.enter(mode, view, limits, slot, receive_fd, send_fd, scratch, in_namespaces)
        except Exception as error:  # before any student code: report it, it is the grader's fault
            protocol.receive(receive_fd)
            protocol.send(send_fd, {"fatal": f"{type(error).__name__}: {error}"})
            return
        _serve(receive_fd, send_fd, applied, limits, course)
        status = 0
    finally:
        os._exit(status)


class _BoundedText(io.TextIOBase):
    """stdout/stderr of a cell: keeps the first ``limit`` characters, counts the rest."""

    def __init__(self, limit):
        self.limit, self.parts, self.kept, self.dropped = limit, [], 0, 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        room = self.limit - self.kept
        self.parts.append(text[:max(room, 0)])
        self.kept += min(len(text), max(room, 0))
        self.dropped += max(len(text) - max(room, 0), 0)
        return len(text)

    def getvalue(self):
        note = ("\n[" + _("{count} more characters of output were dropped").format(count=self.dropped) + "]\n"
                if self.dropped else "")
        return "".join(self.parts) + note


def shell():
    """The IPython shell the sandboxes run cells in, made once before forking (it is slow to make).
    It keeps what a cell displays as a Jupyter kernel does: the value a cell ends with (unless its
    last line ends with ';') and what it passes to display() become outputs of their own (read by
    _displays), and matplotlib's figures are shown as PNG images by the inline backend."""
    from IPython.core.interactiveshell import InteractiveShell

    hook, publisher = _display_classes()
    shell = InteractiveShell.instance(colors="NoColor", displayhook_class=hook, display_pub_class=publisher)
    try:  # shell.enable_matplotlib("inline") without its GUI event loop, which this shell lacks
        from IPython.core.pylabtools import activate_matplotlib
        from matplotlib_inline.backend_inline import configure_inline_support
    except ImportError:  # no matplotlib (or matplotlib-inline) in this environment: nothing to show
        return shell
    backend = "module://matplotlib_inline.backend_inline"
    activate_matplotlib(backend)
    configure_inline_support(shell, backend)
    return shell


def _display_classes():
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher

    class KernelDisplayHook(DisplayHook):
        """A cell's final value, kept as a kernel's execute_result instead of printed."""
        source = ""  # the cell being run: cells run with store_history=False leave the history empty

        def quiet(self):
            return self.semicolon_at_end_of_expression(self.source)

        def write_output_prompt(self):
            pass

        def write_format_data(self, format_dict, md_dict=None):
            self.shell.display_pub.outputs.append({"kind": "execute_result", "data": format_dict})

        def finish_displayhook(self):
            self._is_active = False

    class KeepingDisplayPublisher(DisplayPublisher):
        """What display() shows, kept for the cell's outputs."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.outputs = []

        def publish(self, data, metadata=None, source=None, *, transient=None, update=False):
            self.outputs.append({"kind": "display_data", "data": data})

        def clear_output(self, wait=False):
            self.outputs.clear()

    return KernelDisplayHook, KeepingDisplayPublisher


def _serve(receive_fd, send_fd, isolation, limits, course):
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()  # made by the worker before forking: see shell()
    while True:
        try:
            request = protocol.receive(receive_fd)
        except EOFError:
            return
        op = request.get("op")
        if i18n.valid(request.get("language")):
            os.environ[i18n.LANGUAGE_VARIABLE] = request["language"]
        if op == "hello":
            reply = {"isolation": isolation}
        elif op == "exec":
            reply = _run_cell(shell, request["source"], limits)
        elif op == "call":
            kind, value = course.student_side(request["check"], shell.user_ns, request["text"], request["inputs"],
                                              request["seed"])
            reply = {kind: value}
        else:
            return
        try:
            protocol.send(send_fd, reply)
        except (TypeError, ValueError) as error:  # the answer held something that is not plain data
            protocol.send(send_fd, {"problem": _("the answer could not be sent back ({error})").format(error=error)})


def _run_cell(shell, source, limits):
    out, err = _BoundedText(limits.output_bytes), _BoundedText(limits.output_bytes)
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = out, err
    try:
        published = _published(shell)
        shell.displayhook.source = source
    except Exception:  # the student's code replaced them with something else: no displays then
        published = []
    try:
        result = shell.run_cell(source, store_history=False, silent=False)
    finally:
        sys.stdout, sys.stderr = saved
    outputs = [{"output_type": "stream", "name": name, "text": text.getvalue()}
               for name, text in (("stdout", out), ("stderr", err)) if text.getvalue()]
    try:  # the student's code may have replaced or filled the list with anything
        outputs += _displays(published, limits.output_bytes - out.kept - err.kept)
    except Exception:
        outputs.append({"output_type": "stream", "name": "stderr",
                        "text": "[" + _("what this cell displayed was unreadable") + "]\n"})
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        outputs.append({"output_type": "error", "ename": _safe(lambda: type(error).__name__),
                        "evalue": _safe(lambda: str(error))[:2000], "traceback": []})
        return {"status": "error", "outputs": outputs}
    return {"status": "ok", "outputs": outputs}


# What a display may carry to the trusted side: text and images (nothing a browser would run).
DISPLAY_TYPES = ("text/plain", "image/png", "image/jpeg")


def _published(shell):
    """The list the cell's displays go to, emptied (made anew if the student's code broke it)."""
    publisher = shell.display_pub
    if not isinstance(getattr(publisher, "outputs", None), list):
        publisher.outputs = []
    publisher.outputs.clear()
    return publisher.outputs


def _displays(published, room):
    """What the cell displayed, as nbformat outputs: the types above, as strings, within ``room``
    characters in all (the rest is dropped and counted in a note)."""
    outputs, dropped = [], 0
    for item in list(published):
        if not isinstance(item, dict) or not isinstance(item.get("data"), dict):
            continue
        data = {mime: value for mime, value in item["data"].items()
                if mime in DISPLAY_TYPES and isinstance(value, str)}
        size = sum(map(len, data.values()))
        if not data:
            continue
        if size > room:
            dropped += size
            continue
        room -= size
        kind = "execute_result" if item.get("kind") == "execute_result" else "display_data"
        outputs.append({"output_type": kind, "data": data})
    if dropped:
        outputs.append({"output_type": "stream", "name": "stderr",
                        "text": "\n[" + _("{count} more characters of displayed output were dropped").format(
                            count=dropped) + "]\n"})
    return outputs


def _safe(describe):
    try:
        return str(describe())
    except BaseException:  # a hostile __str__ or __name__: say nothing rather than fail
        return "?"

