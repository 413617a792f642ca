"""The trusted side's limits on one notebook, without MXNet: a reply pipe the sandbox abuses, the
output cap enforced in the worker, the notebook's wall-time budget, the size of what is read, and
text from submissions printed safely."""
import os
import struct
import time
from contextlib import contextmanager

import nbformat
import pytest

from grader.engine import worker as worker_module
from grader.engine.nbgrader_plugins import rebuild
from grader.engine.printable import printable
from grader.engine.sandbox import Limits, Sandbox, SandboxFailure
from tests.timing import alarm

LENGTH = struct.Struct("<Q")


class _Waiter:
    """Stands for the Forker: waits for the stand-in sandbox process."""

    def wait(self, pid, seconds=None):
        return os.waitpid(pid, 0)[1]


@contextmanager
def fake_sandbox(reply_bytes, limits=Limits(cell_seconds=0.5)):
    """A Sandbox whose process has written ``reply_bytes`` on its reply pipe and then sleeps."""
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(from_child_r)
            os.write(from_child_w, reply_bytes)
            time.sleep(60)
        finally:
            os._exit(0)
    os.close(from_child_w)
    os.close(to_child_r)
    box = object.__new__(Sandbox)
    box.limits, box.slot, box._forker = limits, 0, _Waiter()
    box.pid, box._send_fd, box._receive_fd = pid, to_child_w, from_child_r
    try:
        yield box
    finally:
        box.close()


def test_half_a_reply_frame_costs_the_cell_not_the_grader():
    with fake_sandbox(LENGTH.pack(1) + LENGTH.pack(1000) + b'{"status": "ok", ') as box, alarm(10):
        started = time.monotonic()
        with pytest.raises(SandboxFailure, match="ran longer than 0.5 s"):
            box.execute("print(1)")
        assert time.monotonic() - started < 3
        assert box.pid is None  # closed: the next cell gets a fresh sandbox


def test_a_reply_nested_200000_deep_is_the_sandbox_failure():
    header = b"[" * 200_000 + b"]" * 200_000
    reply = LENGTH.pack(1) + LENGTH.pack(len(header)) + header
    # a pipe holds only 64 KiB: the stand-in process writes the rest as the grader reads
    with fake_sandbox(reply, Limits(cell_seconds=5)) as box, alarm(20):
        with pytest.raises(SandboxFailure, match="nested"):
            box.execute("print(1)")


def test_a_reply_of_the_wrong_form_is_the_sandbox_failure():
    header = b'{"status": "ok", "outputs": "not a list"}'
    with fake_sandbox(LENGTH.pack(1) + LENGTH.pack(len(header)) + header) as box, alarm(10):
        with pytest.raises(SandboxFailure, match="wrong form"):
            box.execute("print(1)")


class _FakeSandbox:
    """Answers every cell at once with ``outputs``, or takes ``seconds`` and then fails as a
    sandbox that ran out of time does."""

    isolation = ["fake"]

    def __init__(self, outputs=(), seconds=None, log=None):
        self.outputs, self.seconds, self.log = list(outputs), seconds, log if log is not None else []

    def execute(self, source, seconds=None):
        self.log.append((source, seconds))
        if self.seconds is not None:
            time.sleep(min(self.seconds, seconds))
            if self.seconds >= seconds:
                raise SandboxFailure(f"it ran longer than {seconds:g} s and was stopped")
        return {"status": "ok", "outputs": [dict(o) for o in self.outputs]}

    def close(self):
        pass


class _FakeWorker:
    def __init__(self, limits, make):
        self.limits, self._make = limits, make

    def _sandbox(self):
        return self._make()


def _grade(limits, make, steps):
    run = worker_module._Run(_FakeWorker(limits, make), {"student": "s", "assignment": "a", "steps": steps})
    for step in steps:
        run.execute(step)
    run.close()
    return run


def test_the_output_cap_holds_whatever_the_sandbox_sends():
    """The sandbox's own cap runs in the student's process, which can turn it off."""
    limits = Limits(output_bytes=1000)
    huge = [{"output_type": "stream", "name": "stdout", "text": "x" * 5_000_000},
            {"output_type": "error", "ename": "E", "evalue": "y" * 5000, "traceback": ["z" * 100] * 10_000}]
    run = _grade(limits, lambda: _FakeSandbox(huge), [{"cell": 0, "exec": "print('x' * 5_000_000)"}])
    outputs = run.cells[0]["outputs"]
    kept = sum(len(v) if isinstance(v, str) else sum(len(line) for line in v)
               for output in outputs[:-1] for key, v in output.items() if key in ("text", "evalue", "traceback", "ename"))
    assert kept <= 1000
    assert outputs[0]["text"].startswith("x" * 900)
    assert "more characters of output were dropped" in outputs[-1]["text"]


def test_ordinary_outputs_are_kept_as_they_are():
    outputs = [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]
    run = _grade(Limits(), lambda: _FakeSandbox(outputs), [{"cell": 0, "exec": "print('hello')"}])
    assert run.cells[0]["outputs"] == outputs


def test_a_notebook_has_one_budget_and_the_rest_is_not_run():
    """Cells each under their own limit, together over the notebook's budget: the cells after
    the budget ran out are not run, and say why."""
    limits = Limits(cell_seconds=0.4, notebook_seconds=1.0)
    log = []
    steps = [{"cell": n, "exec": f"sleep {n}"} for n in range(20)]
    started = time.monotonic()
    run = _grade(limits, lambda: _FakeSandbox(seconds=0.3, log=log), steps)
    assert time.monotonic() - started < 2.0
    assert len(log) <= 4  # 0.3 s each: the fourth is cut short by the budget
    assert all(seconds <= 0.4 for _, seconds in log)
    last = run.cells[19]["outputs"][0]
    assert last["ename"] == "SandboxStopped" and "used up its 1 s budget" in last["evalue"]
    assert "not run" in last["evalue"]


def test_replays_after_a_crash_count_against_the_budget():
    limits = Limits(cell_seconds=0.5, notebook_seconds=1.0)
    log = []
    made = []

    def make():
        made.append(1)
        # every fresh sandbox takes 0.2 s a cell: replays use the budget up
        return _FakeSandbox(seconds=0.2, log=log)

    run = worker_module._Run(_FakeWorker(limits, make), {"student": "s", "assignment": "a", "steps": []})
    started = time.monotonic()
    for n in range(10):
        run.execute({"cell": n, "exec": f"cell {n}"})
        run._lost()  # as if each cell had crashed the process: the next one replays the ones before
    run.close()
    assert time.monotonic() - started < 2.0
    assert "used up its 1 s budget" in run.cells[9]["outputs"][0]["evalue"]


def test_added_cells_beyond_the_limit_are_dropped_and_reported():
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    submission = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")] +
                                          [nbformat.v4.new_code_cell(f"y = {n}") for n in range(60)])
    rebuilt, notes = rebuild(release, submission, max_added_cells=50)
    assert [c.source for c in rebuilt.cells if c.source != "x = 1"] == [f"y = {n}" for n in range(50)]
    assert notes == ["60 cells were added; the 10 after the first 50 were dropped"]


def test_added_markdown_and_raw_cells_are_inert_text():
    from nbconvert.filters import markdown2html
    release = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Chapter")])
    hostile = ["<img src=x onerror=alert(1)>\n<script>alert(2)</script>",
               "```\n<img src=y onerror=alert(3)>\n```\n<img src=z onerror=alert(4)>"]
    submission = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Chapter")] +
                                          [nbformat.v4.new_markdown_cell(text) for text in hostile] +
                                          [nbformat.v4.new_raw_cell("<script>alert(5)</script>")])
    rebuilt, _ = rebuild(release, submission)
    added = [c for c in rebuilt.cells if c.source != "# Chapter"]
    assert [c.cell_type for c in added] == ["markdown"] * 3
    for cell in added:
        html = markdown2html(cell.source)
        assert "<script" not in html and "<img" not in html, html
        assert "alert(" in html  # shown, as text


def test_a_notebook_over_the_size_limit_is_not_read(tmp_path):
    from grader.engine.autograde import Grader, _first_line
    grader = object.__new__(Grader)
    grader.options = {"max_notebook_bytes": 1000}
    path = tmp_path / "big.ipynb"
    with open(path, "wb") as handle:
        handle.truncate(3 * 2**20)  # sparse: nothing to read, if anything tried
    with pytest.raises(Exception) as stopped:
        grader._read(path)
    assert _first_line(stopped.value) == "notebook is 3.0 MiB, over the 0.000953674 MiB limit"


def test_printable_escapes_control_characters():
    assert printable("ok\x1b]0;owned\x07 \u202etxt\nnext") == "ok\\x1b]0;owned\\x07 \\u202etxt\\x0anext"
    assert printable("line\nline\r", newlines=True) == "line\nline\\x0d"
    assert printable("naïve 中文 ✓") == "naïve 中文 ✓"


def test_html_outputs_of_students_code_are_sanitized_and_scripts_dropped():
    from grader.engine.nbgrader_plugins import InertOutputs
    cell = nbformat.v4.new_code_cell("display(HTML(...))", outputs=[
        nbformat.v4.new_output("display_data", data={
            "text/html": "<b>table</b><img src=x onerror=alert(1)><script>alert(2)</script>",
            "application/javascript": "alert(3)", "image/svg+xml": "<svg onload=alert(4)/>",
            "text/plain": "<HTML object>"}),
        nbformat.v4.new_output("stream", name="stdout", text="<script>alert(5)</script>\n")])
    cell, _ = InertOutputs().preprocess_cell(cell, {}, 0)
    shown, stream = cell.outputs
    assert shown.data == {"text/html": '<b>table</b><img src="x">', "text/plain": "<HTML object>"}
    assert stream.text == "<script>alert(5)</script>\n"  # plain text: shown as text, never rendered


def test_a_sandbox_that_stops_reading_its_input_costs_the_cell_not_the_grader():
    """Student code can make its process stop reading requests (patching grader.engine.protocol.receive,
    say): a request larger than a pipe holds must not block the grader forever."""
    with fake_sandbox(b"") as box, alarm(10):
        started = time.monotonic()
        with pytest.raises(SandboxFailure, match="ran longer than 0.5 s"):
            box.execute("# " + "x" * (1 << 20))
        assert time.monotonic() - started < 3
