"""Command line of the course's grader.

    python -m grader autograde [ASSIGNMENT ...] [--jobs N] [--scheduler ADDRESS] [--student ID ...] [--force]
    python -m grader grade [the same options]   (make grade: set up, autograde, feedback, export)

Run it from the course's root (where nbgrader_config.py is), with submissions in nbgrader's layout,
submitted/<student>/<assignment>/<notebook>.ipynb; `grade` sets the gradebook up first (autograde
needs it done: `make grade`, `make release` or `nbgrader generate_assignment`).
Scores go into nbgrader's gradebook, so `nbgrader generate_feedback` and `nbgrader export` follow.
"""
import argparse
import os
import signal
import sys

# jsonschema (imported by nbformat) compiles grammars for an optional URI-syntax package at import,
# seconds of start-up for a format no notebook uses; without the package it skips that format.
sys.modules.setdefault("rfc3987_syntax", None)

from .printable import PrintableStream, printable
from .sandbox import Limits


class _Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP: the run stops as it does on Ctrl-C."""


def _stop(signum, _frame):
    for name in ("SIGTERM", "SIGHUP"):  # one stop is enough: cleaning up must not be interrupted
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise _Stopped(signum)


def main(argv=None):
    # nbgrader runs `alembic` from PATH: this environment's bin/ first, so that
    # `.venv/bin/python -m grader ...` works without activating the environment.
    os.environ["PATH"] = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    for name in ("SIGTERM", "SIGHUP"):
        signal.signal(getattr(signal, name), _stop)
    # Logs may quote submissions: none of their control characters reach the terminal.
    sys.stderr = PrintableStream(sys.stderr)
    try:
        return _main(argv)
    except KeyboardInterrupt as stop:
        signum = stop.args[0] if isinstance(stop, _Stopped) else signal.SIGINT
        _close_pool()
        try:
            print(f"\nstopped: {signal.Signals(signum).name}; what was graded is saved; "
                  f"run the same command again to finish", file=sys.stderr)
        except OSError:  # the terminal is gone (SIGHUP)
            pass
        return 128 + signum


_pool = []  # the local workers, to kill when the run is stopped


def _close_pool():
    while _pool:
        _pool.pop().close()


def _nothing_new(args, found):
    """Why nothing was graded, true to what was asked (never "every submission is graded" when
    there was none)."""
    which = (f" of {', '.join(args.assignments)}" if args.assignments else "") + \
            (f" by {', '.join(args.student)}" if args.student else "")
    if found:
        return f"nothing new to grade: every submission{which} in submitted/ is graded (--force grades again)"
    return f"no submission{which} in submitted/: nothing was graded"


def _main(argv):
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    autograde = argparse.ArgumentParser(add_help=False)  # the options both commands take
    autograde.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                           help="assignments to grade (default: every one in the gradebook)")
    autograde.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                           help="notebooks graded at once on this machine (default: one per core)")
    autograde.add_argument("--scheduler", metavar="ADDRESS",
                           help="grade on a Dask cluster (e.g. tcp://10.0.0.5:8786) instead of this machine")
    autograde.add_argument("--student", action="append", default=[], metavar="ID",
                           help="grade only this student (repeat for several)")
    autograde.add_argument("--force", action="store_true", help="grade again what was graded already")
    autograde.add_argument("--root", default=".", help="the course's root folder (default: here)")
    autograde.add_argument("--cell-timeout", type=float, default=Limits.cell_seconds, metavar="SECONDS",
                           help=f"wall time of one notebook cell (default {Limits.cell_seconds:g})")
    autograde.add_argument("--isolation", choices=("auto", "namespaces", "landlock"), default="auto",
                           help="how students' code is isolated (default: the strongest this machine allows)")
    autograde.add_argument("--unsafe-no-isolation", action="store_true",
                           help="grade even where students' code cannot be isolated, with resource limits "
                                "only: their code can then read and change anything you can")
    autograde.add_argument("--case-timeout", type=float, default=Limits.check_seconds, metavar="SECONDS",
                           help=f"wall time of a student's code on one test case (default {Limits.check_seconds:g})")
    autograde.add_argument("--notebook-timeout", type=float, metavar="SECONDS",
                           help="wall time of a whole notebook, replays after a crash included (default: "
                                f"c.FastGrader.notebook_timeout in nbgrader_config.py, or {Limits.notebook_seconds:g})")
    commands.add_parser("autograde", parents=[autograde], help="grade every submission not graded yet")
    commands.add_parser("grade", parents=[autograde],
                        help="the instructor's day (make grade): set up the gradebook for chapters it lacks, "
                             "grade every new submission, write the feedback, export the grades")
    args = parser.parse_args(argv)
    if args.cell_timeout <= 0 or args.case_timeout <= 0 or (args.notebook_timeout is not None
                                                            and args.notebook_timeout <= 0):
        parser.error("timeouts must be positive")

    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    from .isolation import IsolationUnavailable, choose_mode
    try:  # before any student's code runs: never grade with less isolation than asked for
        mode = choose_mode("unsafe" if args.unsafe_no_isolation else args.isolation)
    except IsolationUnavailable as error:
        print(f"error: students' code cannot be isolated on this machine ({error}).\n"
              f"Grade on a machine that allows unprivileged user namespaces or Landlock, or pass "
              f"--unsafe-no-isolation to grade with resource limits only (students' code could then "
              f"read and change anything you can).", file=sys.stderr)
        return 2
    from . import course as courses
    from .pool import DaskPool, LocalPool, settings_for
    # The workers warm the course up (import its libraries) while this process imports nbgrader
    # and reads the class.
    course = courses.configured_name(args.root)
    local = None if args.scheduler or course is None else LocalPool(args.jobs, course)
    if local:
        _pool.append(local)
    from .autograde import Grader, GradingError, summary
    log = lambda text: print(text, file=sys.stderr)  # noqa: E731
    try:
        grader = Grader(args.root, pool=None, force=args.force, log=log)
        if args.command == "grade":
            from .day import set_up_gradebook
            set_up_gradebook(grader, log)
        limits = Limits(cell_seconds=args.cell_timeout, check_seconds=args.case_timeout,
                        notebook_seconds=args.notebook_timeout or grader.options["notebook_timeout"])
        settings = settings_for(grader, limits, mode)
        if local is None and not args.scheduler:  # no course named when the workers were started
            local = LocalPool(args.jobs, settings["course"])
            _pool.append(local)
        if local:
            local.configure(settings)
        grader.pool = local or DaskPool(args.scheduler, settings)
        outcomes = grader.run(args.assignments, args.student)
    except (GradingError, courses.CourseNotFound) as error:
        print(f"error: {printable(str(error))}", file=sys.stderr)
        _close_pool()
        return 2
    if not outcomes:
        print(printable(_nothing_new(args, grader.found)))
    print(summary(outcomes, grader))
    if args.command == "grade":
        from .day import write_feedback
        from .export import export
        _close_pool()  # the workers are done: their memory is not needed for what follows
        write_feedback(grader, log)
        print("\n".join(export(grader)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
