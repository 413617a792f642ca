"""`python -m grader autograde --scheduler ADDRESS`: the same class graded on a real Dask cluster
(a scheduler and a worker on loopback) gets the same scores as the local run."""
import json
import os
import subprocess
import time

import pytest

from tests import course
from tests.conftest import ungraded_copy

pytestmark = pytest.mark.slow


def _start(args, cwd):
    env = dict(os.environ, PATH=f"{course.BIN}{os.pathsep}{os.environ['PATH']}",
               PYTHONWARNINGS="ignore::DeprecationWarning", DASK_DISTRIBUTED__WORKER__DAEMON="False")
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def test_a_dask_cluster_gives_the_same_scores(graded_class, fast_graded_class, tmp_path):
    root = ungraded_copy(graded_class, tmp_path / "course")
    scheduler_file = tmp_path / "scheduler.json"
    dask = str(course.BIN / "dask")
    processes = [_start([dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                         "--scheduler-file", str(scheduler_file)], tmp_path)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        processes.append(_start([dask, "worker", address, "--nworkers", "1", "--nthreads", "2",
                                 "--host", "127.0.0.1", "--no-dashboard"], tmp_path))
        result = course.run([course.sys.executable, "-m", "grader", "autograde", "--scheduler", address], cwd=root)
    finally:
        for process in processes:
            os.killpg(process.pid, 9)
            process.wait()
    assert "graded" in result.stdout + result.stderr
    for (student, assignment), cells in graded_class.expected.items():
        if cells is not None:
            assert course.cell_scores(root, student, assignment) == fast_graded_class.cells(student, assignment)
    assert f"could not grade broken/{list(course.chapters())[0]}" in result.stderr
