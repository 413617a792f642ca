"""Benchmark: plain ``nbgrader autograde`` against ``python -m grader autograde`` on one class.

    python -m grader.benchmark [--students 30] [--chapters 6] [--jobs N] [--repeat 3] [--keep DIR]
                               [--as-ordinary-user]

Makes a course in a scratch folder and a class of mixed answers (complete, blank, partly done,
known wrong answers, correct answers written differently), grades identical copies of it, one with
each command, checks that every graded cell got the same score, and prints the times, their ratio
and the peak memory of each (resident memory summed over all processes of the command, sampled
every 0.25 s: pages that forked processes share are counted once per process, so this is an upper
bound). Plain nbgrader grades the class chapter by chapter; the fast grader grades a fresh copy
``--repeat`` times, its runs spread between plain nbgrader's chapters so that both are timed over
the same stretch of time (this machine's speed drifts over minutes), and its median time is the one
compared. With ``--as-ordinary-user`` (run as root) further copies are graded, as many times, by an
ordinary user made for the purpose, as an instructor on a JupyterHub would, with the same isolation
built without root.
"""
import argparse
import collections
import itertools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]


def _tree_rss(pid):
    """Resident memory of a process and all its descendants, in bytes."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry))
            except OSError:
                continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            total += int(open(f"/proc/{current}/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            pass
    return total


def timed(args, cwd, as_user=False):
    """Run a command (as the test's ordinary user if ``as_user``); (seconds, peak memory of its
    process tree in bytes)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               PYTHONWARNINGS="ignore::DeprecationWarning")
    if as_user:
        from tests import ordinary_user
        args = ordinary_user.command(args, {k: env[k] for k in ("PATH", "PYTHONWARNINGS")} | {"HOME": str(cwd)})
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=cwd, env=None if as_user else env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    peak = [0]

    def sample():
        while process.poll() is None:
            peak[0] = max(peak[0], _tree_rss(process.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, errors = process.communicate()
    seconds = time.monotonic() - started
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{errors[-3000:]}")
    return seconds, peak[0]


def make_class(root, students, chapters):
    """Submissions of ``students`` students in the first ``chapters`` chapters, answers mixed."""
    from grader import known_answers
    sys.path.insert(0, str(REPO))
    from tests import course

    names = list(course.chapters().items())[:chapters]
    # Seven kinds over six chapters: each student's chapters, and each chapter's students, are mixed.
    kinds = itertools.cycle(["complete", "wrong", "right", "blank", "partly", "wrong", "complete"])
    wrong = itertools.cycle(known_answers.WRONG)
    for number in range(students):
        student = f"student{number:03d}"
        for assignment, name in names:
            release = course.read(root / "chapters" / assignment / name)
            answers = course.solution_sources(course.read(root / "solutions" / assignment / name))
            kind = next(kinds)
            if kind == "blank":
                chosen = {}
            elif kind == "partly":
                first = next(iter(answers))
                chosen = {first: answers[first]}
            elif kind == "wrong":
                mistake = next(a for a in wrong if a.exercise in answers)
                chosen = dict(answers, **{mistake.exercise: mistake.source})
            elif kind == "right":
                chosen = {ex: next((a.source for a in known_answers.RIGHT[::-1] if a.exercise == ex), src)
                          for ex, src in answers.items()}
            else:
                chosen = answers
            course.submit(root, student, assignment, course.with_answers(release, chosen))
    return [a for a, _ in names]


def cell_scores(root):
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {(s.student.id, s.assignment.name, g.name): g.score
                for a in gradebook.assignments for s in a.submissions for n in s.notebooks for g in n.grades}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--chapters", type=int, default=6)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="keep the graded courses in this folder")
    parser.add_argument("--repeat", type=int, default=3,
                        help="grade the class this many times with the fast grader (each time afresh, "
                             "between plain nbgrader's chapters) and take the median time")
    parser.add_argument("--as-ordinary-user", action="store_true",
                        help="also grade a copy as an ordinary user made for the purpose (needs root)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from tests import course

    if args.as_ordinary_user:
        from tests import ordinary_user
        why_not = ordinary_user.available()
        if why_not:
            raise SystemExit(f"--as-ordinary-user: {why_not}")
    scratch = Path(args.keep or tempfile.mkdtemp(prefix="grader-benchmark-"))
    base = course.make_course(scratch / "base")
    from grader import secret
    secret.load(base)  # one secret for every copy: the same hidden cases whichever grader runs
    assignments = make_class(base, args.students, args.chapters)
    notebooks = sum(1 for _ in (base / "submitted").glob("*/*/*.ipynb"))
    plain = scratch / "nbgrader"
    shutil.copytree(base, plain)
    fast = [_FastRuns("as root", base, scratch / "grader", args.jobs)]
    if args.as_ordinary_user:
        fast.append(_FastRuns("as an ordinary user", base, None, args.jobs))
    # The fast runs are spread between plain nbgrader's chapters, so that both graders are timed
    # over the same stretch of time: this machine's speed drifts by a fifth over minutes.
    turns = [runs for _ in range(max(args.repeat, 1)) for runs in fast]
    after_chapter = collections.defaultdict(list)
    for i, runs in enumerate(turns):
        after_chapter[i * len(assignments) // len(turns)].append(runs)

    print(f"{args.students} students x {len(assignments)} chapters = {notebooks} notebooks, "
          f"{os.cpu_count()} cores; plain nbgrader autograde chapter by chapter, the fast grader "
          f"{len(turns)} times in between ...", flush=True)
    plain_seconds, plain_peak = 0.0, 0
    try:
        for index, assignment in enumerate(assignments):
            seconds, peak = timed([str(Path(sys.executable).parent / "nbgrader"), "autograde", assignment,
                                   "--GuardedExecute.allow_unsandboxed=True",  # trusted: the made-up class
                                   "--log-level=ERROR"], plain)
            plain_seconds, plain_peak = plain_seconds + seconds, max(plain_peak, peak)
            print(f"  nbgrader autograde {assignment}: {seconds:.1f} s", flush=True)
            for runs in after_chapter.get(index, []):
                runs.grade_once()
        print(f"  nbgrader autograde:       {plain_seconds:8.1f} s  ({plain_seconds / notebooks:.3f} s per notebook), "
              f"peak memory {plain_peak / 2**20:.0f} MiB", flush=True)
        differing = []
        for runs in fast:
            runs.report(plain_seconds, notebooks)
            differing += _compare(cell_scores(plain), cell_scores(runs.target))
    finally:
        for runs in fast:
            runs.clean()
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return 1 if differing else 0


class _FastRuns:
    """``python -m grader autograde`` on fresh copies of the class, as root or (``target`` None) as
    an ordinary user made for the purpose; the last copy is kept until ``clean`` for its scores."""

    def __init__(self, who, base, target, jobs):
        self.who, self.base, self.jobs, self.runs = who, base, jobs, []
        self.as_user = target is None
        if self.as_user:
            from tests import ordinary_user
            self.folder = ordinary_user.scratch_folder()
            target = self.folder / "course"
        self.target = target

    def grade_once(self):
        shutil.rmtree(self.target, ignore_errors=True)
        shutil.copytree(self.base, self.target)
        command = [sys.executable, "-m", "grader", "autograde", "--jobs", str(self.jobs)]
        if self.as_user:
            from tests import ordinary_user
            ordinary_user.give(self.folder, *ordinary_user.ensure_user())
            with ordinary_user.reachable(*ordinary_user.environment_paths()):
                self.runs.append(timed(command, self.target, as_user=True))
        else:
            self.runs.append(timed(command, self.target))
        print(f"  python -m grader autograde {self.who}: {self.runs[-1][0]:.1f} s", flush=True)

    def report(self, plain_seconds, notebooks):
        seconds, peak = statistics.median(t for t, _ in self.runs), max(p for _, p in self.runs)
        print(f"  python -m grader autograde --jobs {self.jobs}, {self.who}: {seconds:6.1f} s  "
              f"({seconds / notebooks:.3f} s per notebook), peak memory {peak / 2**20:.0f} MiB; "
              f"median of {_times(self.runs)}")
        print(f"  throughput ratio {self.who}: {plain_seconds / seconds:.1f} x")

    def clean(self):
        if self.as_user:
            shutil.rmtree(self.folder, ignore_errors=True)


def _times(runs):
    return ", ".join(f"{seconds:.1f}" for seconds, _ in runs) + " s"


def _compare(expected, actual):
    differing = sorted(k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
    print(f"  scores: {len(expected)} graded cells, {len(differing)} differ")
    for key in differing[:20]:
        print(f"    {'/'.join(key)}: nbgrader {expected.get(key)}, grader {actual.get(key)}")
    return differing


if __name__ == "__main__":
    sys.exit(main())
