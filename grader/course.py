"""The course's grading content, as the grading engine (grader/engine/) sees it.

The engine knows nothing about convolutions: it grades whatever course ``nbgrader_config.py``
names (``c.FastGrader.course = "grader.course"``), through the object ``COURSE`` here. Another
course plugs in the same way: a module with an object of the same methods (see
grader/engine/course.py for what the engine asks of it).
"""
import os

import numpy as np

from course_runtime.i18n import translator

from . import LOCALE, checks, notebook, rules
from . import secret as course_secret


_ = translator("grader", LOCALE)


class ConvolutionCourse:
    """Checks, seeds, rules and the MXNet warm-up of the convolution course."""

    checks = checks.CHECKS

    # ---------------------------------------------------------------- read by the instructor's process
    def graded_check(self, source):
        """The check id a graded cell runs when the cell is exactly one known ``check(...)`` call,
        else None."""
        ids, only_checks = checks.check_calls(source)
        return ids[0] if only_checks and len(ids) == 1 and ids[0] in self.checks else None

    def passed_text(self, check_id):
        return self.checks[check_id].passed_text() + "\n"

    def description(self, check_id):
        """What a graded cell checks, in plain words of the current language (the feedback page's
        summary shows it; the cell's own comment is English, as the code is)."""
        return self.checks[check_id].summary_text()

    def case_seed(self, student, assignment, check_id, secret):
        return checks.case_seed(student, assignment, check_id, secret)

    def secret(self, root):
        return course_secret.load(root)

    def private_paths(self, root):
        """What students' code must never read, beside what the engine hides anyway."""
        return [os.path.join(root, course_secret.SECRET_FILE)]

    def options(self, config):
        """The instructor's choices the workers need (nbgrader_config.py): plain data. ValueError
        for a wrong one."""
        return {"disabled_rules": rules.disabled_in(config)}

    def environment(self):
        """Variables the grading workers start with (MXNet reads them when it is imported). The
        default engine hands every operation to a pool of threads and waits for it: students'
        loops (one small operation per output value) pay that thousands of times, and forking has
        to stop and restart the pool; run in the caller's thread, the same operations give the
        same numbers with about a third less CPU. One OpenMP thread suits one worker per core."""
        return {"MXNET_ENGINE_TYPE": "NaiveEngine", "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}

    # ---------------------------------------------------------------- in a grading worker
    def prepare_worker(self, options):
        """Before the worker forks anything: the rules in force, the guard on MXNet's operators and
        the faster indexing of students' loops (same operators, same results)."""
        from . import fast_indexing, guard
        rules.set_disabled(options.get("disabled_rules", ()))
        guard.install()
        fast_indexing.install()

    def warm_up(self):
        """The first-time work every sandbox would repeat, done once in the worker: MXNet's
        operators and autograd, matplotlib's fonts and layouts, the course's modules."""
        import warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib.pyplot as plt
        from mxnet import autograd, gluon, nd
        X = nd.ones((1, 2, 5, 5))
        layer = gluon.nn.Conv2D(2, kernel_size=(2, 3), use_bias=False)
        layer.initialize()
        with autograd.record():
            loss = (layer(X) ** 2).sum()
        loss.backward()
        nd.Convolution(X, nd.ones((3, 2, 2, 2)), kernel=(2, 2), num_filter=3, no_bias=True, pad=(1, 1),
                       stride=(2, 1))
        nd.dot(nd.ones((2, 3)), nd.ones((3, 4))).asnumpy()
        nd.FullyConnected(nd.ones((4, 3)), nd.ones((2, 3)), no_bias=True, num_hidden=2).asnumpy()
        nd.add_n(nd.ones((2, 2)), nd.ones((2, 2))), nd.stack(nd.ones(2), nd.ones(2))
        fig, (left, right) = plt.subplots(1, 2)
        left.semilogy([1, 2, 3], [1, 0.1, 0.01], marker="o", label="$x^2$")
        left.legend()
        shown = right.imshow(nd.ones((3, 3)).asnumpy(), cmap="coolwarm")
        fig.colorbar(shown, ax=right)
        right.text(0.5, 0.5, "warm ⋆", ha="center")
        fig.tight_layout()
        fig.canvas.draw()
        plt.close(fig)
        for module in ("course_runtime.figures", "course_runtime.given", "grader.reference", "grader.diagnose"):
            try:
                __import__(module)
            except ImportError:  # a Dask worker elsewhere may not have the book
                pass
        from course_runtime import figures, i18n
        # drawn here once, not in every sandbox that runs a figure cell; in English only, as most
        # classes are (each figure costs a worker about 0.3 s): see prepare_language
        figures.prepare((i18n.ENGLISH,))
        # The messages' catalogs, read once here: a sandbox cannot read them (nor import Babel).
        i18n.preload("course_runtime")
        i18n.preload("grader", LOCALE)

    def prepare_language(self, language):
        """In a worker that grades notebooks in ``language`` (not English), before it forks their
        sandboxes: the figures drawn ahead in that language."""
        from course_runtime import figures
        figures.prepare((language,))

    def cases(self, check_id, seed):
        return self.checks[check_id].cases(np.random.default_rng(seed))

    def call_seed(self, check_id, index, student, assignment):
        return notebook.call_seed(self.checks[check_id], index, student, assignment)

    def judge(self, check_id, cases, call):
        """The first problem of the check on ``cases`` (``call(index, case)`` gets the student's
        result from the sandbox), or None."""
        return notebook.judge_cases(self.checks[check_id], cases, call)

    # ---------------------------------------------------------------- in the student's sandbox
    def student_side(self, check_id, namespace, text, inputs, seed):
        """Call the student's answer (found in the notebook's ``namespace``) on one case:
        ("result", plain data) or ("problem", message)."""
        check = self.checks[check_id]
        notebook.seed_random_generators(seed, check.mxnet_random)
        answer = namespace.get(check.exercise)
        if answer is None:
            return "problem", _("your notebook does not define {exercise}").format(exercise=check.exercise)
        return notebook.call_student(check, answer, checks.Case(text, inputs))


COURSE = ConvolutionCourse()
