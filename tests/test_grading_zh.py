"""A Chinese submission (metadata course.language = zh_CN, made from chapters_zh/) is rebuilt on the
Chinese release (RestoreLayout.translated_releases): same scores as the English one, by the fast
grader and by plain nbgrader, its course text Chinese in autograded/ and in the feedback."""
import json

import nbformat
import pytest

from book.zh import notebooks as zh
from grader.engine.nbgrader_plugins import RestoreLayout, submission_language
from tests import course

REPO = course.REPO
CHAPTERS = course.chapters()
GRADED = ["ch1_cross_correlation", "ch4_padding_stride"]


def _release(root, folder, assignment):
    return course.read(root / folder / assignment / CHAPTERS[assignment])


def _markdown(notebook):
    return [c.source for c in notebook.cells if c.cell_type == "markdown"]


# ---------------------------------------------------------------- RestoreLayout alone (fast)

def _restore(tmp_path, submission, **config):
    for folder in ("chapters", zh.FOLDER):
        target = tmp_path / folder / "ch1_cross_correlation"
        target.mkdir(parents=True)
        (target / CHAPTERS["ch1_cross_correlation"]).write_bytes(
            (REPO / folder / "ch1_cross_correlation" / CHAPTERS["ch1_cross_correlation"]).read_bytes())
    layout = RestoreLayout(release_root=str(tmp_path / "chapters"), **config)
    resources = {"nbgrader": {"assignment": "ch1_cross_correlation", "student": "s",
                              "notebook": CHAPTERS["ch1_cross_correlation"][:-len(".ipynb")]}}
    return layout.preprocess(submission, resources)


def test_a_chinese_submission_is_rebuilt_on_the_chinese_release(tmp_path):
    submission = _release(REPO, zh.FOLDER, "ch1_cross_correlation")
    rebuilt, resources = _restore(tmp_path, submission, translated_releases={"zh_CN": str(tmp_path / zh.FOLDER)})
    assert _markdown(rebuilt) == _markdown(submission) and resources["nbgrader"]["language"] == "zh_CN"
    assert not any(source.startswith("```text") for source in _markdown(rebuilt))


def test_without_its_release_a_chinese_submission_gets_the_english_text_and_its_prose_kept_inert(tmp_path):
    """What the setting changes: on the English release the Chinese prose is the student's own
    (the grader's messages still speak the student's language)."""
    submission = _release(REPO, zh.FOLDER, "ch1_cross_correlation")
    rebuilt, resources = _restore(tmp_path, submission)
    english = _markdown(_release(REPO, "chapters", "ch1_cross_correlation"))
    assert set(english) <= set(_markdown(rebuilt)) and resources["nbgrader"]["language"] == "zh_CN"
    assert sum(source.startswith("```text") for source in _markdown(rebuilt)) >= 10


def test_an_unknown_or_malformed_language_is_graded_on_the_english_release(tmp_path):
    submission = _release(REPO, "chapters", "ch1_cross_correlation")
    for value in ("fr", ["zh_CN"], {"x": 1}, "zh_CN" * 100):
        submission.metadata["course"] = {"language": value}
        assert submission_language(submission) in (None, "fr")
        rebuilt, resources = _restore(tmp_path / str(len(str(value))), submission,
                                      translated_releases={"zh_CN": str(tmp_path / zh.FOLDER)})
        assert _markdown(rebuilt) == _markdown(_release(REPO, "chapters", "ch1_cross_correlation"))


# ---------------------------------------------------------------- a small class, graded (slow)

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two chapters, each submitted by "en" and by "zh" with the solutions' answers, graded by
    `python -m grader autograde`, with feedback."""
    root = course.make_course(tmp_path_factory.mktemp("zh") / "course")
    for assignment in GRADED:
        answers = course.solution_sources(_release(root, "solutions", assignment))
        course.submit(root, "en", assignment, course.with_answers(_release(root, "chapters", assignment), answers))
        course.submit(root, "zh", assignment, course.with_answers(_release(root, zh.FOLDER, assignment), answers))
    result = course.run([course.sys.executable, "-m", "grader", "autograde", *GRADED], cwd=root)
    for assignment in GRADED:
        course.nbgrader("generate_feedback", assignment, cwd=root)
    return root, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("assignment", GRADED)
def test_a_chinese_submission_gets_the_english_ones_full_marks(graded, assignment):
    root, _ = graded
    english, chinese = course.cell_scores(root, "en", assignment), course.cell_scores(root, "zh", assignment)
    assert english and chinese == english
    assert all(score == top > 0 for score, top in chinese.values()), chinese


@pytest.mark.slow
@pytest.mark.parametrize("assignment", GRADED)
def test_the_autograded_chinese_notebook_has_the_chinese_releases_text(graded, assignment):
    root, _ = graded
    for student, folder in (("zh", zh.FOLDER), ("en", "chapters")):
        autograded = course.read(root / "autograded" / student / assignment / CHAPTERS[assignment])
        assert _markdown(autograded) == _markdown(_release(root, folder, assignment)), student
    autograded = course.read(root / "autograded" / "zh" / assignment / CHAPTERS[assignment])
    assert autograded.metadata["course"]["language"] == "zh_CN"


@pytest.mark.slow
def test_the_feedback_of_a_chinese_submission_shows_its_text_as_text(graded):
    root, _ = graded
    assignment = GRADED[0]
    html = next((root / "feedback" / "zh" / assignment).glob("*.html")).read_text()
    heading = _markdown(_release(root, zh.FOLDER, assignment))[0].splitlines()[0].lstrip("# ").replace("\\.", ".")
    assert "二维互相关运算" in heading and heading in html
    assert "```text" not in html and "language-text" not in html
    english = next((root / "feedback" / "en" / assignment).glob("*.html")).read_text()
    assert heading not in english


@pytest.mark.slow
def test_plain_nbgrader_rebuilds_a_chinese_submission_on_the_chinese_release(graded, tmp_path):
    import shutil
    root = shutil.copytree(graded[0], tmp_path / "course", ignore=shutil.ignore_patterns("autograded", "feedback"))
    assignment = GRADED[0]
    course.nbgrader("autograde", assignment, "--force", "--student", "zh", cwd=root)
    autograded = course.read(root / "autograded" / "zh" / assignment / CHAPTERS[assignment])
    assert _markdown(autograded) == _markdown(_release(root, zh.FOLDER, assignment))
    assert course.cell_scores(root, "zh", assignment) == course.cell_scores(graded[0], "en", assignment)


@pytest.mark.slow
def test_the_grader_knows_the_language_of_each_submission_it_reads(graded):
    """Where the fast grader reads a submission (Grader._prepare), each job says the language of the
    release it is graded on: for the sandbox's messages (COURSE_LANGUAGE)."""
    from grader.engine.autograde import Grader
    root, _ = graded
    grader = Grader(root, pool=None)
    name = CHAPTERS[GRADED[0]][:-len(".ipynb")]
    languages = {student: grader._prepare(GRADED[0], [name], student)["jobs"][name]["language"]
                 for student in ("zh", "en")}
    assert languages == {"zh": "zh_CN", "en": "en"}


def _figures(notebook):
    """The PNG images of a notebook's outputs, in order."""
    return [output["data"]["image/png"] for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if "image/png" in output.get("data", {})]


@pytest.mark.slow
@pytest.mark.parametrize("assignment", GRADED)
def test_a_chinese_submissions_figures_are_the_chinese_ones(graded, assignment):
    """The figures of the cells every submission starts with run once per chapter (in a zygote):
    once per chapter and language, so a Chinese submission's figures have Chinese labels."""
    root, _ = graded
    english, chinese = (_figures(course.read(root / "autograded" / student / assignment / CHAPTERS[assignment]))
                        for student in ("en", "zh"))
    assert english and len(chinese) == len(english)
    assert all(zh_png != en_png for zh_png, en_png in zip(chinese, english))
