"""The trusted grading worker: runs one submission's job at a time in sandboxes it starts.

A job is plain data made by the instructor's process (see autograde.py):

    {"student": ..., "assignment": ..., "notebook": ...,
     "steps": [{"cell": 3, "exec": "<source>"}, {"cell": 7, "check": "corr2d.values", "seed": 123}, ...]}

Cells run in notebook order in one sandboxed process; a check step makes the check's cases here,
sends the student's side only the inputs, and judges the plain results here. A cell or case that
kills or hangs the sandbox costs that cell only: a fresh sandbox replays the cells before it and
grading goes on. ``python -m grader.engine.worker`` serves jobs over stdin/stdout (protocol.py).
"""
import ctypes
import hashlib
import itertools
import json
import os
import signal
import sys
import time
from collections import OrderedDict


from . import course as courses
from . import i18n
from . import isolation, protocol
from . import sandbox
from .sandbox import Limits, Sandbox, SandboxFailure

_ = i18n.translator("engine")
MAX_RESTARTS = 8
MAX_ZYGOTES = 3   # chapters whose shared cells stay ready, per worker


class ZygoteFailure(Exception):
    """A chapter's zygote process stopped; the job is graded without it."""


class Worker:
    """Grades jobs. Make it before it sees any job: its Forker, which starts every sandbox and
    zygote it uses, is forked here, so none of them inherits anything of a job."""

    def __init__(self, course, slot=0, limits=Limits(), view=None, mode="namespaces"):
        self.course, self.slot, self.limits, self.mode = course, slot, limits, mode
        self.view = view or isolation.view_for()
        isolation.prepare(mode)  # compiled and looked up once here, used by every sandbox forked later
        self._in_one_fork = mode == "namespaces" and isolation.can_fork_into_namespaces()
        self._spare = None
        self._sandboxes_made = 0
        self._zygotes = OrderedDict()
        i18n.preload("engine")  # read here once: sandboxes cannot read the catalogs
        sandbox.become_subreaper()
        os.environ.setdefault("IPYTHONDIR", os.path.join(os.path.expanduser("~"), ".ipython"))
        sandbox.shell()
        self._forker = sandbox.Forker({"sandbox": self._sandbox_main, "zygote": self._zygote_main})

    def _sandbox_main(self, receive_fd, send_fd, payload):
        sandbox._child_main(receive_fd, send_fd, self.slot, self.limits, self.view, self.mode, payload["scratch"],
                            self.course, payload.get("in_namespaces", False))

    def _zygote_main(self, receive_fd, send_fd, payload):
        _zygote_main(receive_fd, send_fd, payload["sources"], self.limits, self.view, self.mode, self.course,
                     payload.get("language", i18n.ENGLISH))

    def _sandbox(self):
        sandbox, self._spare = self._spare, None
        if sandbox is None:
            scratch = None
            if self.mode == "unsafe":  # a folder of its own, removed when it closes
                self._sandboxes_made += 1
                scratch = os.path.join(isolation.state_dir(), f"scratch-{os.getpid()}-{self._sandboxes_made}")
            sandbox = Sandbox(self._forker, self.slot, self.limits, scratch, namespaces=self.mode == "namespaces",
                              in_one_fork=self._in_one_fork)
        return sandbox

    def prepare(self):
        """Between jobs: start the next job's sandbox ahead of it."""
        sandbox.collect_orphans()
        if self._spare is None:
            self._spare = self._sandbox()

    def grade(self, job):
        """Grade a job; its leading "shared" steps (the release's cells every submission of the
        chapter starts with: set-up, figures, worked examples) run once per chapter in a zygote,
        and the job's sandboxes are forked from there."""
        shared = list(itertools.takewhile(lambda step: step.get("shared"), job["steps"]))
        if not shared:
            return self.grade_here(job)
        sources = [step["exec"] for step in shared]
        # The shared cells' outputs (a figure's labels) are in the notebook's language: one zygote
        # per chapter and language.
        language = job.get("language", i18n.ENGLISH)
        key = hashlib.sha256(json.dumps([language, sources]).encode()).hexdigest()
        try:
            zygote = self._zygotes.pop(key, None) or _Zygote(self, sources, language)
            self._zygotes[key] = zygote
            while len(self._zygotes) > MAX_ZYGOTES:
                self._zygotes.popitem(last=False)[1].close()
            result = zygote.grade(dict(job, steps=job["steps"][len(shared):]))
        except ZygoteFailure:
            if key in self._zygotes:
                self._zygotes.pop(key).close()
            return self.grade_here(job)
        result["cells"].update({step["cell"]: output for step, output in zip(shared, zygote.prefix)})
        return result

    def grade_here(self, job):
        started = time.monotonic()
        run = _Run(self, job)
        try:
            # What the student reads (the checks' messages, a cell stopped) in the notebook's language.
            with i18n.speaking(job.get("language", i18n.ENGLISH)):
                for step in job["steps"]:
                    if "exec" in step:
                        run.execute(step)
                    else:
                        run.check(step)
        finally:
            run.close()
        return {"cells": run.cells, "checks": run.checks, "isolation": run.isolation,
                "restarts": run.restarts, "seconds": time.monotonic() - started}

    def close(self):
        if self._spare is not None:
            self._spare.close()
            self._spare = None
        while self._zygotes:
            self._zygotes.popitem()[1].close()
        self._forker.close()


class _Zygote:
    """A trusted process, started by the worker's Forker, that has run a chapter's shared cells
    (the instructor's code, never a student's) and grades that chapter's jobs in sandboxes started
    from that state. It has a sandbox slot of its own."""

    def __init__(self, worker, sources, language=i18n.ENGLISH):
        self._forker = worker._forker
        self.pid, self._send_fd, self._receive_fd = self._forker.start("zygote", {"sources": sources, "language": language})
        try:
            self.prefix = self._receive()["prefix"]
        except ZygoteFailure:
            self.close(seconds=0)
            raise

    def _receive(self):
        try:
            return protocol.receive(self._receive_fd)
        except (EOFError, protocol.ProtocolError) as error:
            raise ZygoteFailure(str(error)) from None

    def grade(self, job):
        try:
            protocol.send(self._send_fd, job)
        except OSError as error:
            raise ZygoteFailure(str(error)) from None
        result = self._receive()
        for key in ("cells", "checks"):
            result[key] = {int(k): v for k, v in result[key].items()}
        return result

    def close(self, seconds=5):
        """Let the zygote close its sandboxes and exit (end of its input); kill it if it does not."""
        for fd in (self._send_fd, self._receive_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self._forker.wait(self.pid, seconds)


def _zygote_main(receive_fd, send_fd, sources, limits, view, mode, course, language=i18n.ENGLISH):
    """A zygote's life: run the shared cells, then grade jobs until its input ends."""
    # Dies with the forker (so with the worker), and holds none of its descriptors.
    ctypes.CDLL(None).prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    os.dup2(2, 1)
    sandbox.close_descriptors_except((receive_fd, send_fd))  # the forker let go of the slot locks
    shell = sandbox.shell()
    with i18n.speaking(language):
        prefix = [sandbox._run_cell(shell, source, limits) for source in sources]
        if language != i18n.ENGLISH and hasattr(course, "prepare_language"):
            course.prepare_language(language)
    inner = Worker(course, sandbox.claim_slot(), limits, view, mode)  # after the shared cells, before any job
    protocol.send(send_fd, {"prefix": prefix})
    try:
        while True:
            inner.prepare()
            try:
                job = protocol.receive(receive_fd)
            except EOFError:
                return
            protocol.send(send_fd, inner.grade_here(job))
    finally:
        inner.close()


class _Run:
    """One job: the sandbox in use, the cells run so far (to replay after a restart), results.

    The whole notebook has a wall-time budget (Limits.notebook_seconds), replays after a crash
    included: once it is spent, the remaining cells and checks are not run and score 0."""

    def __init__(self, worker, job):
        self.worker, self.job, self.limits = worker, job, worker.limits
        self.deadline = time.monotonic() + self.limits.notebook_seconds
        self.sandbox = worker._sandbox()
        self.isolation = self.sandbox.isolation
        self.replay, self.cells, self.checks, self.restarts = [], {}, {}, 0

    def execute(self, step):
        try:
            reply = self._alive().execute(step["exec"], self._seconds(self.limits.cell_seconds))
            reply["outputs"] = _capped(reply["outputs"], self.limits.output_bytes)
            self.cells[step["cell"]] = reply
            self.replay.append(step["exec"])
        except SandboxFailure as failure:
            verb = "not run" if isinstance(failure, _BudgetSpent) else "stopped"
            self.cells[step["cell"]] = {"status": "error", "outputs": [_stopped_output(self._reason(failure), verb)]}
            self._lost()

    def check(self, step):
        course, check_id = self.worker.course, step["check"]
        exercise = course.checks[check_id].exercise
        cases = course.cases(check_id, step["seed"])
        student, assignment = self.job["student"], self.job["assignment"]

        def call(index, case):
            try:
                return self._alive().call(check_id, case.text, case.inputs,
                                          course.call_seed(check_id, index, student, assignment),
                                          self._seconds(self.limits.check_seconds))
            except SandboxFailure as failure:
                self._lost()
                if isinstance(failure, _BudgetSpent):
                    return "problem", _("your {exercise} was not checked: {reason}").format(exercise=exercise,
                                                                                           reason=failure)
                return "problem", _("for {case} your {exercise} was stopped: {reason}").format(
                    case=case.text, exercise=exercise, reason=self._reason(failure))

        self.checks[step["cell"]] = {"check": check_id, "problem": course.judge(check_id, cases, call)}

    def _seconds(self, limit):
        """How long the next request may take: its own limit, or what is left of the budget."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise self._budget_spent()
        return min(limit, remaining)

    def _budget_spent(self):
        return _BudgetSpent(_("the notebook used up its {seconds} s budget").format(
            seconds=f"{self.limits.notebook_seconds:g}"))

    def _reason(self, failure):
        """What stopped a request: the notebook's budget, if that is what ran out."""
        return self._budget_spent() if time.monotonic() >= self.deadline else failure

    def _alive(self):
        if self.sandbox is None:
            if self.restarts >= MAX_RESTARTS:
                raise SandboxFailure(_("the grader gave up on this notebook after {count} restarts").format(
                    count=MAX_RESTARTS))
            if time.monotonic() >= self.deadline:  # no restart once the budget is spent
                raise self._budget_spent()
            self.restarts += 1
            self.sandbox = self.worker._sandbox()
            for source in self.replay:  # the state the notebook had before the failure
                self.sandbox.execute(source, self._seconds(self.limits.cell_seconds))
        return self.sandbox

    def _lost(self):
        if self.sandbox is not None:
            self.sandbox.close()
        self.sandbox = None

    def close(self):
        self._lost()


class _BudgetSpent(SandboxFailure):
    """The notebook's wall-time budget ran out."""


MAX_OUTPUTS = 16  # a cell's stdout, stderr and error are 3


def _capped(outputs, limit):
    """A cell's outputs as the sandbox sent them, cut to ``limit`` characters in all: the sandbox's
    own cap runs in the student's process, which can turn it off. Fields are only cut here; their
    form is checked where they are used (autograde.py)."""
    room, dropped, kept = limit, 0, []
    for output in outputs[:MAX_OUTPUTS]:
        if not isinstance(output, dict):
            kept.append(None)  # of the wrong form: autograde.py says so
            continue
        fields = {}
        for key in ("output_type", "name", "text", "ename", "evalue", "traceback"):
            value = output.get(key)
            if isinstance(value, str):
                fields[key] = value[:room]
                dropped += len(value) - len(fields[key])
                room -= len(fields[key])
            elif key == "traceback" and isinstance(value, list):
                fields[key] = []
                for line in value:
                    if room <= 0:
                        dropped += sum(len(rest) if isinstance(rest, str) else 1 for rest in value[len(fields[key]):])
                        break
                    line = line[:room] if isinstance(line, str) else None
                    fields[key].append(line)
                    room -= max(len(line or ""), 1)
            elif value is not None:
                fields[key] = None  # of the wrong form
        data = output.get("data")
        if isinstance(data, dict):  # a display: an image is kept whole or not at all
            fields["data"] = {}
            for mime, value in list(data.items())[:MAX_OUTPUTS]:
                size = len(value) if isinstance(value, str) else 1
                if size > room:
                    dropped += size
                    continue
                fields["data"][mime] = value
                room -= size
        elif data is not None:
            fields["data"] = None  # of the wrong form
        kept.append(fields)
    if dropped:
        kept.append({"output_type": "stream", "name": "stderr",
                     "text": "\n[" + _("{count} more characters of output were dropped").format(count=dropped)
                             + "]\n"})
    return kept


def _stopped_output(failure, verb="stopped"):
    text = (_("this cell was not run: {reason}") if verb == "not run"
            else _("this cell was stopped: {reason}")).format(reason=failure)
    return {"output_type": "error", "ename": "SandboxStopped", "evalue": text,
            "traceback": [f"SandboxStopped: {text}"]}


def main(course):
    """Serve jobs from stdin, results to stdout, until stdin closes."""
    try:
        settings = protocol.receive(0)
    except EOFError:  # the instructor's process ended before it had work for this worker
        return 0
    # Before the Worker forks its Forker: every sandbox inherits what the course prepares.
    course.prepare_worker(settings.get("course_options", {}))
    view = isolation.view_for(settings.get("runtime_paths", ()), settings.get("hidden_paths", ()))
    worker = Worker(course, sandbox.claim_slot(), Limits(**settings.get("limits", {})), view,
                    settings.get("mode", "namespaces"))
    out = os.dup(1)
    os.dup2(2, 1)  # stray prints (MXNet, warnings) must not corrupt the results channel
    try:
        while True:
            worker.prepare()
            try:
                job = protocol.receive(0)
            except EOFError:
                return
            protocol.send(out, worker.grade(job))
    finally:
        worker.close()


def die_with_parent():
    """A worker runs in a session of its own: it is killed when the process that started it dies
    (the instructor's grader, stopped however it was), and exits if that happened already."""
    ctypes.CDLL(None).prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
    parent = os.environ.get("GRADER_PARENT_PID")
    if parent and os.getppid() != int(parent):
        os._exit(1)


def quietly(work):
    """Run ``work()`` with this process's stderr kept aside: what libraries print while they start
    (MXNet naming its engine, matplotlib building its font cache) is nothing an instructor can act
    on. Shown after all if ``work`` fails."""
    import tempfile
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as kept:
        os.dup2(kept.fileno(), 2)
        try:
            return work()
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            kept.seek(0)
            os.write(2, kept.read())
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def fork_siblings():
    """Fork the other workers of this machine from this one, now warm: one per (job pipe, result
    pipe) pair in GRADER_SIBLINGS (grader.engine.pool._Sibling). Returns in this worker and in
    each sibling, whose descriptors 0 and 1 are then its own pipes and whose first message is its
    pid."""
    pairs = [tuple(int(fd) for fd in pair.split(",")) for pair in os.environ.pop("GRADER_SIBLINGS", "").split(";")
             if pair]
    for jobs_fd, results_fd in pairs:
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)  # dies with the first worker
            os.dup2(jobs_fd, 0)
            os.dup2(results_fd, 1)
            for pair in pairs:
                for fd in pair:
                    os.close(fd)
            protocol.send(1, {"pid": os.getpid()})
            return
    for pair in pairs:
        for fd in pair:
            os.close(fd)


if __name__ == "__main__":
    die_with_parent()
    # python -m grader.engine.worker COURSE-MODULE; warmed up while the instructor's process is
    # still reading the class
    graded = quietly(lambda: courses.load(sys.argv[1]))
    quietly(graded.warm_up)
    fork_siblings()
    sys.exit(main(graded))
