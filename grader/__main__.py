"""Command line of the course's grader.

    python -m grader autograde [ASSIGNMENT ...] [--jobs N] [--scheduler ADDRESS] [--student ID ...] [--force]

Run it from the course's root (where nbgrader_config.py is), after `nbgrader generate_assignment`
and with submissions in nbgrader's layout, submitted/<student>/<assignment>/<notebook>.ipynb.
Scores go into nbgrader's gradebook, so `nbgrader generate_feedback` and `nbgrader export` follow.
"""
import argparse
import os
import sys

# jsonschema (imported by nbformat) compiles grammars for an optional URI-syntax package at import,
# seconds of start-up for a format no notebook uses; without the package it skips that format.
sys.modules.setdefault("rfc3987_syntax", None)

from .sandbox import Limits


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    autograde = commands.add_parser("autograde", help="grade every submission not graded yet")
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
    args = parser.parse_args(argv)
    if args.cell_timeout <= 0 or args.case_timeout <= 0:
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
    from .pool import DaskPool, LocalPool, settings_for
    # The workers import MXNet while this process imports nbgrader and reads the course.
    local = None if args.scheduler else LocalPool(args.jobs)
    from .autograde import Grader, GradingError, summary
    try:
        grader = Grader(args.root, pool=None, force=args.force, log=lambda text: print(text, file=sys.stderr))
        settings = settings_for(grader, Limits(cell_seconds=args.cell_timeout, check_seconds=args.case_timeout), mode)
        if local:
            local.configure(settings)
        grader.pool = local or DaskPool(args.scheduler, settings)
        outcomes = grader.run(args.assignments, args.student)
    except GradingError as error:
        print(f"error: {error}", file=sys.stderr)
        if local:
            local.close()
        return 2
    except KeyboardInterrupt:
        print("\nstopped: what was graded is saved; run the same command again to finish", file=sys.stderr)
        return 130
    print(summary(outcomes, grader) if outcomes else "nothing to grade: every submission is graded (use --force to grade again)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
