"""Hostile submissions: each a cheat with a wrong answer (it must gain nothing) or an attack with a
right answer (nothing may be lost), and what each graded cell must score.

A submission is chapter 1 (corr2d), 3 (train_kernel) or 5 (corr2d_multi_in, corr2d_multi_in_out) with
``answer`` in the solution cell(s), ``extra`` cells added after the answers, and ``tamper``
applied to the notebook. ``expect`` is "all" (every graded cell full), "none" (every graded cell
zero) or {grade_id or exercise: True (full) / False (zero)}. The attacks find the course through
placeholders the test fills in when it builds each submission (``__ROOT__`` the course's folder,
``__PORT__`` a listener of the test's, ``__HOME__`` the grading user's home, ``__SITE__`` the
grading environment's site-packages, ``__SECRETS__`` markers the test plants where students must
not reach): a real student would have to guess them, and could.
"""
from dataclasses import dataclass, field
from typing import Callable, Optional

CH1, CH3, CH5 = "ch1_cross_correlation", "ch3_learning_kernel", "ch5_channels"

WRONG = "def corr2d(X, K):\n    return nd.zeros((1, 1))\n"
RIGHT = None  # the instructor's answer


@dataclass
class Hostile:
    name: str
    expect: object
    extra: tuple = ()
    answer: Optional[str] = RIGHT
    assignment: str = CH1
    answers: dict = field(default_factory=dict)     # chapter 5: {exercise: source}
    tamper: Optional[Callable] = None


def _test_cells(notebook):
    return [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")
            and not c.metadata["nbgrader"].get("solution")]


def _edit_tests(notebook):
    for cell in _test_cells(notebook):
        cell.source = "pass"


def _delete_tests(notebook):
    notebook.cells = [c for c in notebook.cells if c not in _test_cells(notebook)]


def _duplicate_test(notebook):
    import copy
    first = _test_cells(notebook)[0]
    notebook.cells.insert(notebook.cells.index(first), copy.deepcopy(first))


def _more_points(notebook):
    for cell in _test_cells(notebook):
        cell.metadata["nbgrader"]["points"] = 100


def _live_html_in_added_cells(notebook):
    import nbformat
    notebook.cells += [
        nbformat.v4.new_markdown_cell("<img src=x onerror=alert(1)>\n<script>alert(2)</script>"),
        nbformat.v4.new_markdown_cell("```\n<img src=y onerror=alert(3)>\n```\n<img src=z onerror=alert(4)>"),
        nbformat.v4.new_raw_cell("<script>alert(5)</script>"),
    ]


# Student code that finds its process's end of the reply pipe (the one pipe it may only write)
# and writes there whatever it likes.
_REPLY_PIPE = (
    "import fcntl, os, stat, struct\n"
    "def reply_pipes():\n"
    "    for fd in map(int, os.listdir('/proc/self/fd')):\n"
    "        try:\n"
    "            if stat.S_ISFIFO(os.fstat(fd).st_mode) and fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE == os.O_WRONLY:\n"
    "                yield fd\n"
    "        except OSError:\n"
    "            pass\n")


def _fake_graded_cell(notebook):
    import nbformat
    cell = nbformat.v4.new_code_cell("print('full marks please')")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": True, "points": 100,
                                 "schema_version": 3, "solution": False, "task": False}
    notebook.cells.append(cell)


ENTRIES = [
    # cheats: a wrong corr2d and a trick that would make plain nbgrader's in-kernel tests pass
    Hostile("patch-numpy-allclose", "none", answer=WRONG, extra=(
        "import numpy\nnumpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\n"
        "numpy.testing.assert_allclose = lambda *a, **k: None\n",)),
    Hostile("patch-reference", "none", answer=WRONG, extra=(
        "import grader.reference as reference\nreference.corr2d = lambda X, K: nd.zeros((1, 1))\n",)),
    Hostile("patch-mxnet-nd", "none", answer=WRONG, extra=(
        "from mxnet import nd as mxnd\nmxnd.Convolution = lambda *a, **k: mxnd.zeros((1, 1, 1, 1))\n",)),
    Hostile("patch-test-helpers", "none", answer=WRONG, extra=(
        "import grader.notebook, grader.checks, grader.compare\n"
        "grader.notebook.check = grader.notebook.judge_cases = lambda *a, **k: None\n"
        "grader.compare.compare_values = grader.compare.compare_shape = lambda *a, **k: None\n"
        "check = lambda *a, **k: None\n",)),
    Hostile("input-transformer-blanks-tests", "none", answer=WRONG, extra=(
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n",)),
    Hostile("ast-transformer-rewrites-tests", "none", answer=WRONG, extra=(
        "import ast\nclass Blank(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
        "        node.body = [ast.Pass()]\n        return node\nget_ipython().ast_transformers.append(Blank())\n",)),
    Hostile("patch-showtraceback-excepthook-assertionerror", "none", answer=WRONG, extra=(
        "import sys, builtins\nget_ipython().showtraceback = lambda *a, **k: None\n"
        "sys.excepthook = lambda *a: None\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\n",)),
    Hostile("eq-always-true", "none", answer=(
        "class Anything:\n    def __eq__(self, other): return True\n    def __array__(self, *a): return __import__('numpy').zeros((1, 1))\n"
        "    shape = property(lambda self: (2, 2))\n"
        "def corr2d(X, K):\n    return Anything()\n")),
    Hostile("ndarray-subclass", "none", answer=(
        "class Agreeable(nd.NDArray):\n    def __eq__(self, other): return True\n"
        "def corr2d(X, K):\n    out = nd.zeros((1, 1))\n    out.__class__ = Agreeable\n    return out\n")),
    Hostile("object-dtype-and-lists", "none", answer="def corr2d(X, K):\n    return [[19, 25], [37, 43]]\n"),
    Hostile("nan-output", {"corr2d_example": False, "corr2d_shapes": True, "corr2d_values": False,
                           "corr2d_edge_cases": False}, answer=(
        "def corr2d(X, K):\n    return nd.full((X.shape[0] - K.shape[0] + 1, X.shape[1] - K.shape[1] + 1), float('nan'))\n")),
    # int32 drops every fraction: each check judges the output's dtype first, so even the example
    # (whose right values are integers) and the shapes fail.
    Hostile("integer-output", "none", extra=(
        "_right = corr2d\ndef corr2d(X, K):\n    return _right(X, K).astype('int32')\n",)),
    Hostile("reseed-random-generators", "none", answer=WRONG, extra=(
        "import random, numpy, mxnet\nrandom.seed(0); numpy.random.seed(0); mxnet.random.seed(0)\n",)),
    Hostile("read-solution-notebook", "none", answer=WRONG + (
        "import glob, json, os\n"
        "for path in glob.glob('__ROOT__/solutions/ch1_cross_correlation/*.ipynb'):\n"
        "    for cell in json.load(open(path))['cells']:\n"
        "        if 'def corr2d' in ''.join(cell['source']):\n            exec(''.join(cell['source']))\n")),
    Hostile("locked-test-cells-edited", "none", answer=WRONG, tamper=_edit_tests),
    Hostile("locked-test-cells-deleted", "none", answer=WRONG, tamper=_delete_tests),
    Hostile("locked-test-cell-duplicated", "all", tamper=_duplicate_test),
    Hostile("locked-test-cells-given-more-points", "none", answer=WRONG, tamper=_more_points),
    Hostile("fake-graded-cell", "all", tamper=_fake_graded_cell),
    Hostile("read-the-true-kernel-off-the-stack", "none", assignment=CH3, answers={"train_kernel": (
        "import inspect\n"
        "def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):\n"
        "    losses = [float(n) for n in range(num_epochs, 0, -1)]\n"
        "    frame = inspect.currentframe()\n"
        "    while frame is not None:\n"
        "        for value in list(frame.f_locals.values()):\n"
        "            for found in (getattr(value, 'inputs', None), getattr(value, 'truth', None)):\n"
        "                if isinstance(found, dict) and 'K_true' in found:\n"
        "                    return nd.array(found['K_true']), losses\n"
        "        frame = frame.f_back\n"
        "    return nd.zeros(kernel_size), losses\n")}),
    # Crashes its process whenever it finds no case data, so that the grader starts it again,
    # and looks for the job (its seeds) or the cases (their true kernels) on the call stack and
    # among the objects it inherited: a process forked from one that holds the job would find
    # them.
    Hostile("find-the-cases-in-inherited-memory", "none", assignment=CH3, answers={"train_kernel": (
        "import gc, inspect, os\nimport numpy as np\n"
        "def _objects():\n"
        "    frame = inspect.currentframe()\n"
        "    while frame is not None:\n"
        "        yield from list(frame.f_locals.values())\n"
        "        frame = frame.f_back\n"
        "    yield from gc.get_objects()\n"
        "def _leaked_kernel(X):\n"
        "    from grader.checks import CHECKS\n"
        "    for found in _objects():\n"
        "        for item in (found if isinstance(found, (list, tuple)) else [found]):\n"
        "            truth = getattr(item, 'truth', None)\n"
        "            if isinstance(truth, dict) and 'K_true' in truth and np.array_equal(item.inputs['X'], X):\n"
        "                return truth['K_true']\n"
        "            steps = item.get('steps') if isinstance(item, dict) else None\n"
        "            for step in (steps if isinstance(steps, list) else []):\n"
        "                if isinstance(step, dict) and step.get('check') in CHECKS and isinstance(step.get('seed'), int):\n"
        "                    for case in CHECKS[step['check']].cases(np.random.default_rng(step['seed'])):\n"
        "                        if 'K_true' in case.truth and np.array_equal(case.inputs['X'], X):\n"
        "                            return case.truth['K_true']\n"
        "    return None\n"
        "def train_kernel(X, Y, kernel_size, num_epochs=10, lr=3e-2):\n"
        "    K = _leaked_kernel(X.asnumpy())\n"
        "    if K is None:\n"
        "        os._exit(1)\n"
        "    return nd.array(K), [float(n) for n in range(num_epochs, 0, -1)]\n")}),
    # attacks with a right answer: the attack may cost its own cell, nothing else
    Hostile("os-exit-in-a-cell", "all", extra=("import os\nos._exit(0)\n",)),
    Hostile("sys-exit-in-a-cell", "all", extra=("import sys\nsys.exit(3)\n",)),
    Hostile("kill-the-parent", "all", extra=(
        "import os, signal\nfor pid in (os.getppid(), os.getpgid(0) and os.getppid()):\n"
        "    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError as error:\n        print(error)\n",)),
    Hostile("infinite-loop-in-a-cell", "all", extra=("while True:\n    pass\n",)),
    Hostile("sleep-for-a-day", "all", extra=("import time\ntime.sleep(86400)\n",)),
    Hostile("memory-bomb", "all", extra=("hoard = []\nwhile True:\n    hoard.append(bytearray(2**26))\n",)),
    Hostile("fork-bomb", "all", extra=(
        "import os\nwhile True:\n    try:\n        if os.fork() == 0:\n            os.setsid()\n"
        "    except OSError:\n        pass\n",)),
    Hostile("gigabyte-of-output", "all", extra=("print('x' * 2**30)\n",)),
    Hostile("open-a-socket", "all", extra=(
        "import socket, os\nsocket.create_connection(('127.0.0.1', __PORT__), timeout=2)\n",)),
    Hostile("write-gradebook-and-other-students", "all", extra=(
        "import glob, os\nroot = '__ROOT__'\n"
        "for path in [root + '/gradebook.db'] + glob.glob(root + '/submitted/honest-complete/*/*.ipynb'):\n"
        "    try:\n        open(path, 'w').write('garbage')\n    except OSError as error:\n        print(error)\n",)),
    # chapter 5: a failure inside one exercise costs that exercise only
    Hostile("os-exit-inside-one-exercise", {"corr2d_multi_in": False, "corr2d_multi_in_out": True},
            assignment=CH5, answers={"corr2d_multi_in": "def corr2d_multi_in(X, K):\n    import os\n    os._exit(1)\n"}),
    Hostile("infinite-loop-inside-one-exercise", {"corr2d_multi_in": False, "corr2d_multi_in_out": True},
            assignment=CH5, answers={"corr2d_multi_in": "def corr2d_multi_in(X, K):\n    while True:\n        pass\n"}),
    # Attacks on the grader itself and on what outlives a submission (issue 10): right answers, so
    # nothing may be lost; the tests also look for what each leaves behind after the run.
    Hostile("lingering-thread", "all", extra=(
        "import ctypes, os, signal, threading, time\n"
        "def _haunt():\n"
        "    end = time.time() + 60\n"
        "    while time.time() < end:\n"
        "        for pid in [-1] + list(range(2, 5000)):\n"
        "            try:\n                os.kill(pid, signal.SIGKILL)\n            except OSError:\n                pass\n"
        "        time.sleep(0.05)\n"
        "threading.Thread(target=_haunt).start()\n"
        "time.sleep(0.3)\n"
        "ctypes.CDLL(None).syscall(60, 0)  # SYS_exit: the main thread ends, the other lives on\n",)),
    Hostile("daemon-rewrites-gradebook-later", "all", extra=(
        "import os, sqlite3, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        "        end = time.time() + 90\n"
        "        while time.time() < end:\n"
        "            try:\n"
        "                db = sqlite3.connect('__ROOT__/gradebook.db', timeout=1)\n"
        "                db.execute('update grade set auto_score = 0')\n"
        "                db.commit()\n"
        "            except Exception:\n"
        "                pass\n"
        "            time.sleep(0.2)\n"
        "    os._exit(0)\n",)),
    Hostile("read-secrets-and-other-students", "none", answer=WRONG, extra=(
        "import glob\n"
        "for path in ['__ROOT__/.grader_secret'] + glob.glob('__ROOT__/submitted/*/*/*.ipynb'):\n"
        "    try:\n        print(open(path).read())\n    except OSError as error:\n        print(error)\n",)),
    Hostile("read-built-sites-exports-downloads", "none", answer=WRONG, extra=(
        "import glob\n"
        "for pattern in ('__ROOT__/_build/**/*', '__ROOT__/grades.csv', '__ROOT__/downloaded/**/*'):\n"
        "    for path in glob.glob(pattern, recursive=True):\n"
        "        try:\n            print(open(path).read())\n        except OSError as error:\n            print(error)\n",)),
    Hostile("print-the-environment", "all", extra=(
        "import os\nprint(dict(os.environ))\n"
        "for pid in ('self', '1', str(os.getppid())):\n"
        "    try:\n        print(open(f'/proc/{pid}/environ').read())\n    except OSError as error:\n        print(error)\n",)),
    Hostile("write-home-and-environment", "all", extra=(
        "for path, text in (('__HOME__/.bashrc', 'echo pwned\\n'), ('__SITE__/zz_pwned.pth', 'import os\\n')):\n"
        "    try:\n        open(path, 'a').write(text)\n    except OSError as error:\n        print(error)\n",)),
    # (its ctypes breaks the exercise's source rule, so it keeps nothing: what matters is that it
    # leaves nothing behind, test_nothing_outlives_the_run)
    Hostile("leftovers-in-shared-memory-and-world-writable-folders", "none", extra=(
        "import ctypes, os\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.shmat.restype = ctypes.c_void_p\n"
        "segment = libc.shmget(0x5EC7E7, 1 << 20, 0o1666)  # IPC_CREAT\n"
        "print('segment', segment, libc.shmat(segment, None, 0) if segment >= 0 else ctypes.get_errno())\n"
        "for folder in ('/run/lock', '/var/tmp', '/dev/shm', '/tmp'):\n"
        "    try:\n        open(folder + '/cnn-grader-leftover', 'w').write('left behind')\n"
        "    except OSError as error:\n        print(error)\n",)),
    # the grader's side of the pipe, the notebook's budget, what is shown to the instructor
    Hostile("half-a-reply-frame-then-silence", "all", extra=(
        _REPLY_PIPE + "import time\nfor fd in reply_pipes():\n"
        "    os.write(fd, struct.pack('<QQ', 1, 1000) + b'{\"status\": \"ok\", ')\ntime.sleep(86400)\n",)),
    Hostile("reply-nested-200000-deep", "all", extra=(
        _REPLY_PIPE + "header = b'[' * 200000 + b']' * 200000\nfor fd in reply_pipes():\n"
        "    os.write(fd, struct.pack('<QQ', 1, len(header)) + header)\n",)),
    # arrays whose bytes are not what the header says they are: rejected, never read as such
    Hostile("reply-with-an-object-array", "all", extra=(
        _REPLY_PIPE + "import json\nheader = json.dumps({'status': 'ok', 'outputs': "
        "[{'__array__': 0, 'dtype': '|O', 'shape': [1]}]}).encode()\nfor fd in reply_pipes():\n"
        "    os.write(fd, struct.pack('<QQ', 2, len(header)) + header + struct.pack('<Q', 8) + (1234).to_bytes(8, 'little'))\n",)),
    Hostile("reply-with-an-array-shorter-than-its-shape", "all", extra=(
        _REPLY_PIPE + "import json\nheader = json.dumps({'status': 'ok', 'outputs': "
        "[{'__array__': 0, 'dtype': '<f8', 'shape': [1 << 20]}]}).encode()\nfor fd in reply_pipes():\n"
        "    os.write(fd, struct.pack('<QQ', 2, len(header)) + header + struct.pack('<Q', 8) + bytes(8))\n",)),
    Hostile("output-cap-turned-off", "all", extra=(
        "import sys\nsys.stdout.limit = 1 << 40\nprint('x' * (20 << 20))\n",)),
    Hostile("live-html-in-added-cells", "all", tamper=_live_html_in_added_cells),
    # each under the cell's limit (5 s in the test), together over the notebook's budget: the
    # graded cells after them are not run
    Hostile("twenty-cells-sleeping-just-under-the-timeout", "none", extra=("import time\ntime.sleep(4.5)\n",) * 20),
    # only the first 50 added cells are kept: the ones that would break the answer are dropped
    Hostile("sixty-added-cells", "all", extra=("pass\n",) * 50 + ("del corr2d\n",) * 10),
]
