"""Benchmark: plain ``nbgrader autograde`` against ``python -m grader autograde`` on one class.

    python -m grader.benchmark [--students 30] [--chapters 6] [--jobs N] [--repeat 3] [--keep DIR]
                               [--as-ordinary-user]

Makes a course in a scratch folder and a class of mixed answers (complete, blank, partly done,
known wrong answers, correct answers written differently), grades two identical copies of it,
one with each command, checks that every graded cell got the same score, and prints both times,
their ratio and the peak memory of each (resident memory summed over all processes of the
command, sampled every 0.1 s: pages that forked processes share are counted once per process, so
this is an upper bound). With ``--as-ordinary-user`` (run as root) a third copy is graded by an
ordinary user made for the purpose, as an instructor on a JupyterHub would, with the same
isolation built without root. The fast grader grades a fresh copy ``--repeat`` times and its
median time is the one compared (its run of a few seconds varies more than plain nbgrader's).
"""
import argparse
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
            time.sleep(0.1)

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
    parser.add_argument("--keep", type=Path, help="keep the two graded courses in this folder")
    parser.add_argument("--repeat", type=int, default=3,
                        help="grade the class this many times with the fast grader, each time afresh, and "
                             "take the median time (its run time varies more from run to run than plain "
                             "nbgrader's ten minutes do)")
    parser.add_argument("--as-ordinary-user", action="store_true",
                        help="also grade a copy as an ordinary user made for the purpose (needs root)")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from tests import course

    scratch = Path(args.keep or tempfile.mkdtemp(prefix="grader-benchmark-"))
    base = course.make_course(scratch / "base")
    from grader import secret
    secret.load(base)  # one secret for every copy: the same hidden cases whichever grader runs
    assignments = make_class(base, args.students, args.chapters)
    notebooks = sum(1 for _ in (base / "submitted").glob("*/*/*.ipynb"))
    plain, ours = scratch / "nbgrader", scratch / "grader"
    shutil.copytree(base, plain)

    print(f"{args.students} students x {len(assignments)} chapters = {notebooks} notebooks, "
          f"{os.cpu_count()} cores; grading with plain nbgrader autograde ...", flush=True)
    plain_seconds, plain_peak = 0.0, 0
    for assignment in assignments:
        seconds, peak = timed([str(Path(sys.executable).parent / "nbgrader"), "autograde", assignment,
                               "--GuardedExecute.allow_unsandboxed=True",  # trusted: the made-up class
                               "--log-level=ERROR"], plain)
        plain_seconds, plain_peak = plain_seconds + seconds, max(plain_peak, peak)
    print(f"  nbgrader autograde:       {plain_seconds:8.1f} s  ({plain_seconds / notebooks:.3f} s per notebook), "
          f"peak memory {plain_peak / 2**20:.0f} MiB", flush=True)
    runs = []
    for _ in range(max(args.repeat, 1)):
        shutil.rmtree(ours, ignore_errors=True)
        shutil.copytree(base, ours)
        runs.append(timed([sys.executable, "-m", "grader", "autograde", "--jobs", str(args.jobs)], ours))
    ours_seconds, ours_peak = statistics.median(t for t, _ in runs), max(p for _, p in runs)
    print(f"  python -m grader autograde: {ours_seconds:6.1f} s  ({ours_seconds / notebooks:.3f} s per notebook), "
          f"peak memory {ours_peak / 2**20:.0f} MiB, --jobs {args.jobs}; median of {_times(runs)}")

    print(f"  throughput ratio: {plain_seconds / ours_seconds:.1f} x")
    differing = _compare(cell_scores(plain), cell_scores(ours))
    if args.as_ordinary_user:
        differing += _as_ordinary_user(base, args.jobs, plain_seconds, cell_scores(plain), notebooks, args.repeat)
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 1 if differing else 0


def _times(runs):
    return ", ".join(f"{seconds:.1f}" for seconds, _ in runs) + " s"


def _compare(expected, actual):
    differing = sorted(k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
    print(f"  scores: {len(expected)} graded cells, {len(differing)} differ")
    for key in differing[:20]:
        print(f"    {'/'.join(key)}: nbgrader {expected.get(key)}, grader {actual.get(key)}")
    return differing


def _as_ordinary_user(base, jobs, plain_seconds, expected, notebooks, repeat=1):
    """Grade a copy of the class as an ordinary user; the differing cells."""
    from tests import ordinary_user
    why_not = ordinary_user.available()
    if why_not:
        raise SystemExit(f"--as-ordinary-user: {why_not}")
    folder = ordinary_user.scratch_folder()
    try:
        target = folder / "course"
        runs = []
        for _ in range(max(repeat, 1)):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(base, target)
            ordinary_user.give(folder, *ordinary_user.ensure_user())
            with ordinary_user.reachable(*ordinary_user.environment_paths()):
                runs.append(timed([sys.executable, "-m", "grader", "autograde", "--jobs", str(jobs)], target,
                                  as_user=True))
        seconds, peak = statistics.median(t for t, _ in runs), max(p for _, p in runs)
        print(f"  the same, as an ordinary user: {seconds:6.1f} s  ({seconds / notebooks:.3f} s per notebook), "
              f"peak memory {peak / 2**20:.0f} MiB; median of {_times(runs)}")
        print(f"  throughput ratio as an ordinary user: {plain_seconds / seconds:.1f} x")
        return _compare(expected, cell_scores(target))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
