"""Where grading jobs run: worker processes on this machine, or on a Dask cluster.

Both hand each job to a ``WorkerProcess``: a ``python -m grader.engine.worker COURSE`` subprocess
that has warmed up the course once (its libraries imported) and forks a sandbox per submission. On a Dask cluster every Dask worker
thread keeps one, so the grading itself is the same code wherever it runs; only plain data
(jobs and results) travels, and the gradebook stays with the instructor's process.
"""
import collections
import itertools
import os
import queue
import signal
import subprocess
import sys
import threading
from dataclasses import asdict

from . import course as courses
from . import isolation, protocol
from .sandbox import Limits


def _int_keys(result):
    """JSON turned the cell indexes into strings; turn them back."""
    for key in ("cells", "checks"):
        result[key] = {int(k): v for k, v in result[key].items()}
    return result


class WorkerProcess:
    """One grading worker subprocess; restarted once if it dies while grading a job.

    ``start()`` may come before the settings are known: the worker warms up the course (imports
    its libraries) while the instructor's process is still reading the class."""

    def __init__(self, course, settings=None):
        self.course, self.settings, self.process, self._configured = course, settings, None, False
        self._lock, self._stopped = threading.Lock(), False

    def start(self, siblings=()):
        """Start the worker process. ``siblings``: (job pipe's read end, result pipe's write end) of
        more workers, which it forks from itself once warm (see _Sibling)."""
        # Only allowlisted variables: no token or key of the instructor's reaches a worker, so none
        # is in the memory or /proc/self/environ of the sandboxes it forks. The worker is in a
        # session of its own (a Ctrl-C at the terminal is this process's to handle), so it is told
        # whose death ends it: see grader.engine.worker.die_with_parent.
        env = isolation.worker_environment(extra=dict(PYTHONWARNINGS="ignore::DeprecationWarning",
                                                      GRADER_PARENT_PID=str(os.getpid()),
                                                      **courses.load(self.course).environment()))
        if siblings:
            env["GRADER_SIBLINGS"] = ";".join(f"{jobs},{results}" for jobs, results in siblings)
        with self._lock:
            if self._stopped:  # the run is stopping: no worker is started again
                raise RuntimeError("the grading run was stopped")
            self.process = subprocess.Popen([sys.executable, "-m", "grader.engine.worker", self.course],
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                            start_new_session=True,
                                            pass_fds=[fd for pair in siblings for fd in pair])
        self._configured = False

    def configure(self, settings):
        self.settings = settings
        process = self.process
        if process is not None and not self._configured:
            protocol.send(process.stdin.fileno(), settings)
            self._configured = True

    def grade(self, job):
        for attempt in (1, 2):
            if self.process is None or self.process.poll() is not None:
                self.start()
            self.configure(self.settings)
            process = self.process
            try:
                if process is None:  # closed meanwhile by the run stopping
                    raise EOFError("the worker was stopped")
                protocol.send(process.stdin.fileno(), job)
                if isinstance(process, _Sibling):
                    process.greeted()
                return _int_keys(protocol.receive(process.stdout.fileno()))
            except (EOFError, OSError, protocol.ProtocolError) as error:
                self.close()
                if attempt == 2:
                    raise RuntimeError(f"the grading worker failed twice on this notebook ({error})") from None

    def close(self, stop=False):
        """Kill the worker (its sandboxes die with it); with ``stop``, for good."""
        with self._lock:
            self._stopped = self._stopped or stop
            process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                try:
                    pipe.close()
                except OSError:
                    pass


class _Sibling:
    """A worker forked by the first one once that one is warm (python -m grader.engine.worker forks
    one per pipe pair in GRADER_SIBLINGS), instead of a process of its own that would import and
    warm up the course again (about 2 s of CPU). Its first message is its pid. Never waited for:
    it is the first worker's child, which leaves it uncollected, so its pid cannot be reused while
    the first worker lives; if that one dies, so do its siblings (their parent-death signal), and
    a job they held is tried again in a worker started afresh (WorkerProcess.grade)."""

    def __init__(self, jobs_fd, results_fd):
        self.stdin, self.stdout = os.fdopen(jobs_fd, "wb", buffering=0), os.fdopen(results_fd, "rb", buffering=0)
        self.pid, self._pidfd = None, None

    def greeted(self):
        """Read its pid (its first message) and hold it as a pidfd: signals then reach it, never
        a process that got its pid after it died."""
        if self.pid is None:
            hello = protocol.receive(self.stdout.fileno())
            if not isinstance(hello, dict) or type(hello.get("pid")) is not int:
                raise protocol.ProtocolError("a forked worker did not say who it is")
            self.pid = hello["pid"]
            try:
                self._pidfd = os.pidfd_open(self.pid)
            except OSError:  # gone already: nothing to signal
                self._pidfd = None

    def poll(self):
        return None   # not this process's child: a dead one shows as a broken pipe

    def kill(self):
        """SIGKILL, through its pidfd; a sibling not yet greeted ends at the end of its input."""
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except OSError:
                pass
            os.close(self._pidfd)
            self._pidfd = None

    def wait(self):
        pass   # collected by the first worker (or, once that one is gone, by init)


def settings_for(grader, limits=Limits(), mode="namespaces"):
    """What a worker needs: limits, isolation, the course (the module named in nbgrader_config.py)
    and its options."""
    return {"limits": asdict(limits), "hidden_paths": grader.hidden_paths(), "mode": mode,
            "runtime_paths": grader.runtime_paths(), "course": grader.options["course"],
            "course_options": grader.course_options}


class _Collector:
    """Turns finished jobs back into finished submissions."""

    def __init__(self):
        self.waiting = {}

    def add(self, submission):
        key = (submission["student"], submission["assignment"])
        submission["results"] = {}
        self.waiting[key] = submission
        return [(key, name, job) for name, job in submission["jobs"].items()]

    def done(self, key, name, result):
        submission = self.waiting[key]
        if isinstance(result, Exception):
            submission["problem"] = f"{name}.ipynb: {result}"
        else:
            submission["results"][name] = result
        if submission["problem"] or len(submission["results"]) == len(submission["jobs"]):
            return self.waiting.pop(key)
        return None


def in_lanes(plan, lanes, assignment_of):
    """``plan`` (grouped by assignment) cut into at most ``lanes`` runs of whole assignments, of
    about equal length. Each local worker works through a run of its own: its zygote (a chapter's
    shared cells, run once) then serves a long run of that chapter's submissions, instead of every
    worker building one for every chapter."""
    if lanes < 2 or len(plan) < 2:
        return [list(plan)]
    groups = []
    for item in plan:
        if groups and assignment_of(groups[-1][-1]) == assignment_of(item):
            groups[-1].append(item)
        else:
            groups.append([item])
    runs, target, done = [[] for _ in range(lanes)], len(plan) / lanes, 0
    for group in groups:  # an assignment goes to the lane its middle falls in
        runs[min(int((done + len(group) / 2) // target), lanes - 1)].extend(group)
        done += len(group)
    return [run for run in runs if run]


class _Lanes:
    """Jobs waiting for a worker, one queue per lane. A worker takes the oldest job of its own
    lane; once its lane is finished it helps the lane with the most jobs left, if that lane has at
    least ``help_from`` left: to help, a worker first runs the chapter's shared cells, which costs
    as much as several submissions, so helping with the last few would finish later, not sooner."""

    def __init__(self, count, sizes=None, help_from=6):
        self.waiting = [collections.deque() for _ in range(count)]
        self.finished = [False] * count
        self.stopped = False
        self._left = list(sizes) if sizes is not None else [None] * count   # jobs not yet taken; None: unknown
        self._help_from = help_from
        self._changed = threading.Condition()

    def put(self, lane, items):
        with self._changed:
            self.waiting[lane].extend(items)
            self._changed.notify_all()

    def _take(self, lane):
        if self._left[lane] is not None:  # counted in submissions: a lane's last ones are few jobs
            self._left[lane] = max(self._left[lane] - 1, 0)
        return self.waiting[lane].popleft()

    def _worth_helping(self, lane):
        left = self._left[lane]
        return bool(self.waiting[lane]) and (left is None or left >= self._help_from)

    def finish(self, lane=None):
        """No more jobs will come for ``lane`` (None: for any lane; the workers stop)."""
        with self._changed:
            if lane is None:
                self.stopped = True
            else:
                self.finished[lane] = True
            self._changed.notify_all()

    def get(self, lane):
        """The next job for a worker of ``lane``; None when there is none left for it."""
        with self._changed:
            while not self.stopped:
                if self.waiting[lane]:
                    return self._take(lane)
                if self.finished[lane]:
                    others = [other for other in range(len(self.waiting)) if self._worth_helping(other)]
                    if others:
                        return self._take(max(others, key=lambda other: self._left[other] or len(self.waiting[other])))
                    if all(self.finished):
                        return None  # what is left is its own lane's worker's
                self._changed.wait()
            return None


class LocalPool:
    """``jobs`` worker processes on this machine, each grading one notebook at a time."""

    AHEAD = 2         # submissions prepared ahead per lane: few, as they hold whole notebooks ...
    IDLE_AHEAD = 12   # ... unless the instructor's process has nothing else to do

    def __init__(self, jobs, course, settings=None):
        self.workers = [WorkerProcess(course, settings) for _ in range(jobs)]
        self.lanes = jobs
        # The first worker starts as a process of its own; the others are forked from it once it
        # is warm (_Sibling), over pipes made here.
        pipes = [(os.pipe(), os.pipe()) for _ in self.workers[1:]]
        try:
            self.workers[0].start(siblings=[(jobs_r, results_w) for (jobs_r, _), (_, results_w) in pipes])
        finally:
            for (jobs_r, _), (_, results_w) in pipes:
                os.close(jobs_r)
                os.close(results_w)
        for worker, ((_, jobs_w), (results_r, _)) in zip(self.workers[1:], pipes):
            worker.process = _Sibling(jobs_w, results_r)

    def configure(self, settings):
        for worker in self.workers:
            worker.configure(settings)

    def map_submissions(self, lanes):
        """Grade the submissions of ``lanes`` (iterables, at most one per worker; see in_lanes);
        yield each submission once all its notebooks are graded."""
        sizes = [len(lane) for lane in lanes] if all(hasattr(lane, "__len__") for lane in lanes) else None
        lanes = [iter(lane) for lane in lanes] or [iter(())]
        todo, finished = _Lanes(len(lanes), sizes if sizes and len(sizes) == len(lanes) else None), queue.Queue()
        collector = _Collector()

        def serve(worker, lane):
            while True:
                item = todo.get(lane)
                if item is None:
                    return
                key, name, job = item
                try:
                    result = worker.grade(job)
                except Exception as error:  # report it with the submission; keep grading the rest
                    result = error
                finished.put((key, name, result))

        threads = [threading.Thread(target=serve, args=(w, n % len(lanes)), daemon=True)
                   for n, w in enumerate(self.workers)]
        for thread in threads:
            thread.start()
        in_flight = 0   # submissions handed to the workers and not yet yielded

        def prepare(lane):
            """The lane's next submission read and queued; returned if it has nothing to grade."""
            nonlocal in_flight
            submission = next(lanes[lane], None)
            if submission is None:
                todo.finish(lane)
            elif not submission["jobs"]:
                return submission
            else:
                in_flight += 1
                todo.put(lane, collector.add(submission))
            return None

        try:
            while True:
                for lane in range(len(lanes)):  # each lane a few submissions ahead
                    while not todo.finished[lane] and len(todo.waiting[lane]) < self.AHEAD:
                        unjobbed = prepare(lane)
                        if unjobbed:
                            yield unjobbed
                # Further ahead only while no result waits to be recorded: that work uses a core
                # the workers leave idle (above all while the first worker starts), not theirs.
                while finished.empty():
                    behind = [lane for lane in range(len(lanes))
                              if not todo.finished[lane] and len(todo.waiting[lane]) < self.IDLE_AHEAD]
                    if not behind:
                        break
                    unjobbed = prepare(min(behind, key=lambda lane: len(todo.waiting[lane])))
                    if unjobbed:
                        yield unjobbed
                if all(todo.finished) and in_flight == 0:
                    return
                complete = collector.done(*finished.get())
                if complete is not None:
                    in_flight -= 1
                    yield complete
        finally:
            todo.finish()
            self.close()

    def close(self):
        for worker in self.workers:
            worker.close(stop=True)


_local = threading.local()


def grade_on_this_machine(job, settings):
    """The task a Dask worker runs: grade one notebook with this thread's worker process."""
    worker = getattr(_local, "worker", None)
    if worker is None:
        worker = _local.worker = WorkerProcess(settings["course"], settings)
    return worker.grade(job)


class DaskPool:
    """Sends each notebook's job to a Dask cluster; results come back to this process."""

    def __init__(self, address, settings):
        from distributed import Client
        self.client = Client(address, timeout="30s")
        self.settings = settings

    def map_submissions(self, lanes):
        """As LocalPool.map_submissions; Dask places the jobs itself, so the lanes are joined."""
        from distributed import as_completed
        submissions = itertools.chain.from_iterable(lanes)
        collector = _Collector()
        futures = as_completed([])
        keys = {}
        try:
            for submission in submissions:
                if not submission["jobs"]:
                    yield submission
                    continue
                for key, name, job in collector.add(submission):
                    future = self.client.submit(grade_on_this_machine, job, self.settings, pure=False)
                    keys[future.key] = (key, name)
                    futures.add(future)
            for future in futures:
                key, name = keys[future.key]
                try:
                    result = future.result()
                except Exception as error:
                    result = error
                complete = collector.done(key, name, result)
                if complete is not None:
                    yield complete
        finally:
            self.client.close()
