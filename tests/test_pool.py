"""The local pool's scheduling: each worker keeps to a run of chapters of its own (so it builds
each chapter's zygote once), and helps the others when its run is done (plain threads); and the
local workers themselves (a made-up course), the second forked from the first once warm."""
import os
import threading
import time
from pathlib import Path

import pytest

from grader.engine.pool import _Lanes, in_lanes

REPO = Path(__file__).resolve().parents[1]


def _plan(counts):
    return [(assignment, student) for assignment, count in counts.items() for student in range(count)]


def test_lanes_hold_whole_assignments_of_about_equal_length():
    plan = _plan({"ch1": 30, "ch2": 30, "ch3": 30, "ch4": 30, "ch5": 30, "ch6": 30})
    lanes = in_lanes(plan, 2, assignment_of=lambda item: item[0])
    assert [sorted({a for a, _ in lane}) for lane in lanes] == [["ch1", "ch2", "ch3"], ["ch4", "ch5", "ch6"]]
    assert sorted(item for lane in lanes for item in lane) == sorted(plan)


def test_one_lane_for_one_worker_or_one_submission_and_no_empty_lane():
    plan = _plan({"ch1": 5, "ch2": 1})
    assert in_lanes(plan, 1, assignment_of=lambda item: item[0]) == [plan]
    assert in_lanes(plan[:1], 4, assignment_of=lambda item: item[0]) == [plan[:1]]
    lanes = in_lanes(_plan({"ch1": 10}), 3, assignment_of=lambda item: item[0])
    assert lanes == [_plan({"ch1": 10})]  # one assignment is never split: one lane, none empty


def test_a_worker_takes_its_own_lane_first_then_helps_the_busiest():
    lanes = _Lanes(2)
    lanes.put(0, ["a1"])
    lanes.put(1, ["b1", "b2", "b3"])
    assert lanes.get(0) == "a1"
    assert lanes.get(1) == "b1"
    lanes.finish(0)
    assert lanes.get(0) == "b2"  # its own lane is done: it helps lane 1
    lanes.finish(1)
    assert lanes.get(1) == "b3"
    assert lanes.get(0) is None and lanes.get(1) is None


def test_a_worker_waits_for_its_lane_rather_than_taking_another_lanes_job():
    lanes = _Lanes(2)
    lanes.put(1, ["b1"])
    taken = []
    waiter = threading.Thread(target=lambda: taken.append(lanes.get(0)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not taken  # lane 0 is not finished: its worker waits for it
    lanes.put(0, ["a1"])
    waiter.join(5)
    assert taken == ["a1"]


def test_stopping_releases_every_waiting_worker():
    lanes = _Lanes(2)
    results = []
    waiters = [threading.Thread(target=lambda n=n: results.append(lanes.get(n))) for n in range(2)]
    for waiter in waiters:
        waiter.start()
    lanes.put(0, [])
    lanes.finish()
    for waiter in waiters:
        waiter.join(5)
    assert results == [None, None]


def test_a_worker_does_not_help_with_a_lanes_last_few_jobs():
    # Helping starts with the chapter's shared cells (a zygote): not worth it for the last few jobs.
    lanes = _Lanes(2, sizes=[1, 4], help_from=3)
    lanes.put(0, ["a1"])
    lanes.put(1, ["b1", "b2"])
    assert lanes.get(0) == "a1"
    lanes.finish(0)
    assert lanes.get(0) == "b1"        # lane 1 has 4 left: worth helping
    assert lanes.get(1) == "b2"        # 2 left now
    lanes.put(1, ["b3", "b4"])
    helper = []
    waiter = threading.Thread(target=lambda: helper.append(lanes.get(0)))
    waiter.start()
    waiter.join(0.2)
    assert waiter.is_alive() and not helper  # 2 left, under help_from: lane 1's own worker takes them
    assert lanes.get(1) == "b3" and lanes.get(1) == "b4"
    lanes.finish(1)
    waiter.join(5)
    assert helper == [None]


# ---------------------------------------------------------------- local workers

DOUBLING_COURSE = '''
from tests.test_engine import DoublingCourse


class WarmDoublingCourse(DoublingCourse):
    def environment(self):
        return {}

    def prepare_worker(self, options):
        pass

    def warm_up(self):
        pass


COURSE = WarmDoublingCourse()
'''


@pytest.fixture
def doubling_pool(tmp_path, monkeypatch):
    """Two local workers of a made-up course (tests/test_engine.py), configured."""
    from dataclasses import asdict

    from grader.engine import isolation
    from grader.engine.pool import LocalPool
    from grader.engine.sandbox import Limits
    (tmp_path / "doubling_course.py").write_text(DOUBLING_COURSE)
    monkeypatch.setenv("PYTHONPATH", f"{tmp_path}{os.pathsep}{REPO}")   # the workers import it
    monkeypatch.syspath_prepend(str(tmp_path))                           # and so does this process
    pool = LocalPool(2, "doubling_course")
    pool.configure({"limits": asdict(Limits(cell_seconds=10)), "mode": isolation.choose_mode(),
                    "runtime_paths": [], "hidden_paths": [], "course_options": {}})
    yield pool
    pool.close()


def _parent(pid):
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


def test_the_second_worker_is_forked_from_the_first_and_both_grade(doubling_pool):
    from tests.test_engine import _job
    first, second = doubling_pool.workers
    right, wrong = _job("def double(x):\n    return x + x"), _job("def double(x):\n    return x * x")
    assert second.grade(right)["checks"][1]["problem"] is None
    assert "your double returned" in first.grade(wrong)["checks"][1]["problem"]
    assert _parent(second.process.pid) == first.process.pid   # no import or warm-up of its own


def test_a_forked_worker_that_dies_is_replaced_by_a_fresh_one(doubling_pool):
    import signal
    from tests.test_engine import _job
    first, second = doubling_pool.workers
    job = _job("def double(x):\n    return x + x")
    assert second.grade(job)["checks"][1]["problem"] is None
    os.kill(second.process.pid, signal.SIGKILL)
    assert second.grade(job)["checks"][1]["problem"] is None   # retried in a worker started afresh
    assert _parent(second.process.pid) == os.getpid()
    assert first.grade(job)["checks"][1]["problem"] is None


class _HeldWorker:
    """A stand-in worker whose grading waits until the test lets it finish."""

    def __init__(self):
        self.release, self.started = threading.Event(), threading.Event()

    def grade(self, job):
        self.started.set()
        self.release.wait(10)
        return {"graded": job}

    def close(self, stop=False):
        self.release.set()


def test_the_pool_prepares_ahead_only_a_bounded_number_of_submissions():
    """While the worker is busy and no result waits, the instructor's process prepares up to
    IDLE_AHEAD submissions (a core the workers leave idle), never the whole class (each holds whole
    notebooks); every submission still comes back once."""
    from grader.engine.pool import LocalPool
    pool = LocalPool.__new__(LocalPool)  # the scheduling alone: no worker process
    worker = _HeldWorker()
    pool.workers, pool.lanes = [worker], 1
    prepared = []

    def lane():
        for number in range(50):
            prepared.append(number)
            yield {"student": f"s{number}", "assignment": "ch1", "problem": "", "jobs": {"nb": number}}

    finished = pool.map_submissions([lane()])
    taken = []
    reader = threading.Thread(target=lambda: taken.extend(finished), daemon=True)
    reader.start()
    assert worker.started.wait(10)
    time.sleep(0.3)  # the pool has had time to prepare as far ahead as it will
    assert LocalPool.AHEAD < len(prepared) <= LocalPool.IDLE_AHEAD + 1  # + the one being graded
    worker.release.set()
    reader.join(10)
    assert sorted(s["student"] for s in taken) == sorted(f"s{n}" for n in range(50))
    assert all(s["results"] == {"nb": {"graded": int(s["student"][1:])}} for s in taken)
