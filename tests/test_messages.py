"""The grader's and the runtime's messages in the notebook's language: every message of the code
has a translation in the catalogs (course_runtime, grader and engine domains), with the same
{fields}; a wrong answer in a Chinese notebook gets its message and hint in Chinese, on the
student's route, in the instructor's kernel and through the fast grader, and the same answer in
an English notebook gets the English one."""
import html
import re
import string
from pathlib import Path

import nbformat
import pytest
from babel.messages.pofile import read_po

from book import messages
from course_runtime import checking, i18n
from grader import known_answers as ka
from grader.checks import CHECKS, make_cases
from grader.notebook import run_check
from tests import course

REPO = Path(__file__).resolve().parents[1]
CH1 = "ch1_cross_correlation"
FLIPPED = next(a for a in ka.WRONG if a.name == "corr2d.flipped_kernel")


def _catalog_file(domain, language="zh_CN"):
    package, _ = messages.DOMAINS[domain]
    return REPO / package / "locale" / language / "LC_MESSAGES" / f"{domain}.po"


def _read(path):
    with open(path, "rb") as handle:
        return read_po(handle)


def _fields(text):
    """The names of the {fields} a message formats, sorted (a translation may name one twice or once)."""
    return sorted({name for _, name, _, _ in string.Formatter().parse(text) if name is not None})


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """Each domain's messages as extracted from the code now (what `make messages` would merge)."""
    folder = tmp_path_factory.mktemp("pot")
    found = {}
    for domain in messages.DOMAINS:
        messages.template(domain, folder / f"{domain}.pot")
        found[domain] = _read(folder / f"{domain}.pot")
    return found


# ---------------------------------------------------------------- the catalogs

@pytest.mark.parametrize("domain", list(messages.DOMAINS))
def test_every_message_of_the_code_is_translated(domain, templates):
    extracted = {m.id for m in templates[domain] if m.id}
    assert len(extracted) >= 10, f"{domain}: only {len(extracted)} messages extracted: is the extraction broken?"
    catalog = _read(_catalog_file(domain))
    entries = {m.id: m for m in catalog if m.id}
    missing = sorted(extracted - set(entries))
    assert not missing, f"{domain}: messages with no entry in {_catalog_file(domain).name} (run `make messages`):\n" + \
        "\n".join(missing)
    untranslated = sorted(m for m in extracted if not entries[m].string)
    fuzzy = sorted(m for m in extracted if entries[m].fuzzy)
    assert not untranslated, f"{domain}: untranslated:\n" + "\n".join(untranslated)
    assert not fuzzy, f"{domain}: fuzzy (a guess: check the translation, then drop the flag):\n" + "\n".join(fuzzy)


@pytest.mark.parametrize("domain", list(messages.DOMAINS))
def test_each_translation_formats_the_fields_of_its_message(domain):
    wrong = []
    for entry in _read(_catalog_file(domain)):
        if not entry.id or not entry.string:
            continue
        try:
            fields, translated = _fields(entry.id), _fields(entry.string)
        except ValueError as error:  # a lone brace
            wrong.append(f"{entry.id!r}: {error}")
            continue
        if fields != translated:
            wrong.append(f"{entry.id!r} has {fields}, its translation {translated}")
    assert not wrong, "\n".join(wrong)


def test_the_field_check_above_can_fail():
    assert _fields("your {exercise} raised {error}") != _fields("你的 {exercise} 引发了 {eror}")
    assert _fields("for {case} your {what} has shape {shape}") != _fields("对于{case}，你的输出形状为 {shape}")


def test_an_english_notebook_gets_the_messages_as_written():
    _ = i18n.translator("grader", REPO / "grader" / "locale")
    with i18n.speaking("en"):
        assert _("your output") == "your output"
    with i18n.speaking("zh_CN"):
        assert _("your output") == "你的输出"


# ---------------------------------------------------------------- no English in a Chinese message

# Code a Chinese message may name: MXNet's and Python's names, the exercises' arguments.
CODE_WORDS = {"NDArray", "MXNet", "NaN", "Gluon", "Conv2D", "NotImplementedError", "list", "tuple", "float",
              "int", "weight", "bias", "forward", "lr", "losses", "padding", "strides", "reshape", "squeeze",
              "autograd", "record", "sum", "for", "in", "range", "GradingFailure", "SandboxStopped", "dtype", "shape",
              "kh", "kw", "window", "Convolution"}


CALL = re.compile(r"[\w.]+\((?:[^()]|\([^()]*\))*\)")


def english_words(message):
    """The words of ``message`` that are English prose: Latin-letter words that are not code
    (identifiers with digits, underscores or dots, calls, keyword arguments, CODE_WORDS). An
    error the student's code raised is quoted as Python or MXNet said it (``引发了 TypeError：...``,
    to the end of the line), and the lines of the student's code it shows (``你的代码第 2 行：...``):
    those words are the library's and the student's, not the grader's."""
    message = re.sub(r"引发了 \w+：.*", "引发了", message)
    message = re.sub(r"你的代码第 \d+ 行：.*", "", message)
    prose = []
    message = CALL.sub(" ", message)  # a call's arguments are code: nd.zeros(shape, dtype=X.dtype)
    for match in re.finditer(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*", message):
        word, after = match.group(), message[match.end():match.end() + 1]
        code = (not word.isalpha() or len(word) == 1 or word in CODE_WORDS or after in ("(", "=", "[")
                or message[max(match.start() - 1, 0)] == ".")
        if not code:
            prose.append(word)
    return prose


def test_the_english_detector_finds_english():
    assert english_words("for X of size (3, 3) your output differs") == ["of", "size", "your", "output", "differs"]
    assert english_words("你的 corr2d 违反了规则：it must not use nd.Convolution") == ["it", "must", "not", "use"]
    assert english_words("对于形状为 (3, 3) 的 X，你的输出与 nd.zeros(shape, dtype=X.dtype) 不同") == []


def _chinese(message):
    return re.search(r"[\u4e00-\u9fff]", message) is not None


# ---------------------------------------------------------------- a wrong answer, in both languages

def _flipped_corr2d():
    return ka.chapter_namespace(FLIPPED)["corr2d"]


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_visible_check_speaks_the_notebooks_language(language, monkeypatch):
    """The student's route (course_runtime's check on examples.json), its language from the
    environment as a kernel started for a Chinese notebook has it."""
    monkeypatch.setenv(i18n.LANGUAGE_VARIABLE, language)
    with pytest.raises(AssertionError) as failure:
        checking.check_example("corr2d.example", _flipped_corr2d())
    message = str(failure.value)
    if language == "zh_CN":
        assert _chinese(message) and "对于笔记中的例子" in message and "不同" in message, message
        assert english_words(message) == [], message
    else:
        assert message.startswith("for the example of the notes") and "differs from the expected one" in message


def test_the_visible_check_of_a_chinese_notebook_says_it_passed_in_chinese(capsys):
    answer = ka.chapter_namespace(next(a for a in ka.RIGHT if a.exercise == "corr2d"))["corr2d"]
    with i18n.speaking("zh_CN"):
        checking.check_example("corr2d.example", answer)
        checking.check_example("corr2d.values", answer)
    out = capsys.readouterr().out
    assert "corr2d.example：通过（笔记中的例子）" in out and "corr2d.values：由教师用隐藏测试评分" in out, out


def test_the_language_comes_from_the_kernels_notebook(tmp_path, monkeypatch):
    """A kernel of JupyterLab knows its notebook's path (JPY_SESSION_NAME): its metadata decides."""
    notebook = nbformat.v4.new_notebook()
    i18n.set_notebook_language(notebook.metadata, "zh_CN")
    path = tmp_path / "chapter.ipynb"
    nbformat.write(notebook, str(path))
    monkeypatch.delenv(i18n.LANGUAGE_VARIABLE, raising=False)
    monkeypatch.setenv("JPY_SESSION_NAME", str(path))
    with pytest.raises(AssertionError, match="对于笔记中的例子"):
        checking.check_example("corr2d.example", _flipped_corr2d())


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_a_hidden_check_names_the_mistake_in_the_notebooks_language(language):
    """The instructor's kernel (plain nbgrader's route): the check's cases, the problem and the
    diagnosis's hint are made while speaking the notebook's language."""
    check = CHECKS["corr2d.values"]
    with i18n.speaking(language):
        message = run_check(check, _flipped_corr2d(), make_cases(check, "student", CH1))
    if language == "zh_CN":
        assert "卷积核被翻转了" in message and "形状为" in message, message
        assert english_words(message) == [], message
    else:
        assert "the kernel was flipped" in message and "X of shape" in message, message


@pytest.mark.parametrize("answer", [a for a in ka.WRONG if a.exercise in ("corr2d", "corr2d_pad_stride",
                                                                          "corr2d_multi_in_out")],
                         ids=lambda a: a.name)
def test_known_mistakes_are_told_in_chinese_without_english(answer):
    """The known wrong answers of three chapters: their Chinese messages hold no English prose."""
    with i18n.speaking("zh_CN"):
        results = ka.grade(ka.chapter_namespace(answer), answer.exercise)
    problems = [problem for problem in results.values() if problem]
    assert problems, answer.name
    for problem in problems:
        assert _chinese(problem) and english_words(problem) == [], problem


def test_the_feedback_pages_words_follow_the_notebook():
    from grader.engine.feedback import FeedbackExporter, FeedbackSummary
    notebook = nbformat.v4.new_notebook()
    i18n.set_notebook_language(notebook.metadata, "zh_CN")
    _, resources = FeedbackSummary().preprocess(notebook, {})
    assert resources["words"]["exercise"] == "练习" and resources["words"]["lang"] == "zh-CN"
    import nbgrader
    from traitlets.config import Config
    config = Config()  # as nbgrader's generate_feedback configures it: bootstrap's CSS from nbgrader
    config.HTMLExporter.extra_template_paths = [str(Path(nbgrader.__file__).parent / "server_extensions" / "formgrader"
                                                    / "static" / "node_modules" / "bootstrap" / "dist" / "css")]
    exporter = FeedbackExporter(config=config)
    exporter.typeset = lambda page: page  # no Node.js needed to read the words
    page, _ = exporter.from_notebook_node(notebook, {"nbgrader": {"notebook": "cross_correlation", "score": 1,
                                                                  "max_score": 5, "late_penalty": 0}})
    assert '<html lang="zh-CN">' in page and "<th>练习</th>" in page and "未通过的检查" in page
    assert "cross_correlation: 1.0 / 5.0 分</h4>" in page
    english, _ = exporter.from_notebook_node(nbformat.v4.new_notebook(), {"nbgrader": {
        "notebook": "cross_correlation", "score": 1, "max_score": 5, "late_penalty": 0}})
    assert '<html lang="en">' in english and "<th>exercise</th>" in english
    assert "cross_correlation: 1.0 / 5.0 points</h4>" in english


# ---------------------------------------------------------------- the fast grader

@pytest.fixture(scope="module")
def fast_graded_chapter(tmp_path_factory):
    """Chapter 1 released, six submissions graded by `python -m grader autograde` (and, in a copy,
    by plain nbgrader): the flipped kernel, the untouched stub and the instructor's answer, each in a
    Chinese and in an English notebook. The release is the English one: a submission's own language is kept."""
    root = course.make_course(tmp_path_factory.mktemp("messages") / "course")
    name = course.chapters()[CH1]
    release = course.read(root / "chapters" / CH1 / name)
    right = course.solution_sources(course.read(root / "solutions" / CH1 / name))
    for student, answers in (("flipped", {"corr2d": FLIPPED.source}), ("stub", {}), ("right", right)):
        for language in ("zh_CN", "en"):
            notebook = course.with_answers(release, answers)
            if language != "en":
                i18n.set_notebook_language(notebook.metadata, language)
            course.submit(root, f"{student}-{language}", CH1, notebook)
    import shutil
    plain = shutil.copytree(root, root.with_name("plain"))
    result = course.run([course.sys.executable, "-m", "grader", "autograde", CH1], cwd=root)
    course.run([course.sys.executable, "-m", "book.vendor"], cwd=REPO)  # MathJax for the feedback pages
    course.nbgrader("generate_feedback", CH1, cwd=root)
    course.nbgrader("autograde", CH1, cwd=plain)
    return root, result.stdout + result.stderr, plain


def _graded_messages(root, student):
    """{grade_id: the message of the graded cell's failure} of an autograded notebook."""
    notebook = course.read(root / "autograded" / student / CH1 / course.chapters()[CH1])
    found = {}
    for cell in notebook.cells:
        grade_id = course.nbgrader_meta(cell).get("grade_id")
        if course.nbgrader_meta(cell).get("grade") and not course.nbgrader_meta(cell).get("solution"):
            found[grade_id] = " ".join(o.get("evalue", "") for o in cell.outputs if o.output_type == "error")
    return found


def _graded_outputs(root, student):
    """{grade_id: the text the graded cell printed} of an autograded notebook."""
    notebook = course.read(root / "autograded" / student / CH1 / course.chapters()[CH1])
    return {course.nbgrader_meta(c)["grade_id"]: "".join(o.get("text", "") for o in c.outputs)
            for c in notebook.cells if course.nbgrader_meta(c).get("grade") and not course.nbgrader_meta(c).get("solution")}


@pytest.mark.slow
def test_the_fast_grader_tells_a_chinese_notebook_its_mistake_in_chinese(fast_graded_chapter):
    root, output, _ = fast_graded_chapter
    flipped = _graded_messages(root, "flipped-zh_CN")
    assert set(flipped) == {"corr2d_example", "corr2d_shapes", "corr2d_values", "corr2d_edge_cases"}, output
    # the hidden check's hint, made by the trusted side (diagnose) while speaking the notebook's language
    assert "卷积核被翻转了" in flipped["corr2d_values"] and "形状为" in flipped["corr2d_values"], flipped
    # a message made inside the sandbox (the stub's NotImplementedError), from COURSE_LANGUAGE
    stub = _graded_messages(root, "stub-zh_CN")
    assert "还是占位代码" in stub["corr2d_values"], stub
    for message in [m for m in list(flipped.values()) + list(stub.values()) if m]:
        assert _chinese(message) and english_words(message) == [], message
    # a passed check says so in the notebook's language (the instructor's process writes it)
    passed = _graded_outputs(root, "right-zh_CN")
    assert "corr2d.values：通过（在随机输入上的值，float32 和 float64）" in passed["corr2d_values"], passed
    assert "corr2d.values: passed (values on random inputs" in _graded_outputs(root, "right-en")["corr2d_values"]
    # the instructor's console stays English
    assert "graded 6/6 submissions" in output, output


@pytest.mark.slow
def test_the_fast_grader_keeps_an_english_notebook_in_english(fast_graded_chapter):
    root, _, _ = fast_graded_chapter
    flipped = _graded_messages(root, "flipped-en")
    assert "the kernel was flipped" in flipped["corr2d_values"] and "X of shape" in flipped["corr2d_values"]
    assert not _chinese(" ".join(flipped.values()))
    assert "is still the stub" in _graded_messages(root, "stub-en")["corr2d_values"]


@pytest.mark.slow
def test_plain_nbgrader_tells_a_chinese_notebook_its_mistake_in_chinese(fast_graded_chapter):
    """nbgrader's own execution (trusted submissions only): the kernel gets COURSE_LANGUAGE from the
    notebook's metadata (GuardedExecute), and the checks run there speak it."""
    _, _, plain = fast_graded_chapter
    flipped = _graded_messages(plain, "flipped-zh_CN")
    assert "卷积核被翻转了" in flipped["corr2d_values"] and english_words(flipped["corr2d_values"]) == [], flipped
    assert "the kernel was flipped" in _graded_messages(plain, "flipped-en")["corr2d_values"]


STUDENT_SCRIPT = """
import sys
from mxnet import nd
from course_runtime.checking import check_example
source = sys.stdin.read()
namespace = {"nd": nd}
exec(source, namespace)
try:
    check_example("corr2d.example", namespace["corr2d"])
except AssertionError as failure:
    print(failure)
"""


@pytest.mark.slow
def test_the_student_editions_runtime_speaks_chinese(student_venv, tmp_path):
    """A fresh student environment (the edition's requirements only, babel among them) has the
    runtime's catalog: a Chinese notebook's kernel (COURSE_LANGUAGE) gets the Chinese message."""
    import os
    import subprocess
    env = {"PATH": f"{Path(student_venv).parent}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": "",
           "PYTHONWARNINGS": "ignore::DeprecationWarning", i18n.LANGUAGE_VARIABLE: "zh_CN"}
    result = subprocess.run([str(student_venv), "-c", STUDENT_SCRIPT], input=FLIPPED.source, cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert "对于笔记中的例子" in message and english_words(message) == [], message


@pytest.mark.slow
def test_the_feedback_page_of_a_chinese_notebook_is_chinese(fast_graded_chapter):
    """`nbgrader generate_feedback` (the course's exporter): the page's words and the failed
    checks' problems in Chinese; an English notebook's page stays English."""
    root, _, _ = fast_graded_chapter
    page = next((root / "feedback" / "flipped-zh_CN" / CH1).glob("*.html")).read_text()
    assert '<html lang="zh-CN">' in page and "<th>练习</th>" in page and "未通过的检查" in page
    assert "卷积核被翻转了" in page and "/ 5.0 分</h4>" in page
    english = next((root / "feedback" / "flipped-en" / CH1).glob("*.html")).read_text()
    assert "<th>exercise</th>" in english and "the kernel was flipped" in english and "卷积核被翻转了" not in english
    # the summary names each failed check: in Chinese by the grader, not by the cell's English comment
    named = re.findall(r'<a class="check" href="#\w+">(.*?)</a>', page)
    assert named and all(english_words(html.unescape(text)) == [] for text in named), named
    assert all(text.startswith("Graded") for text in re.findall(r'<a class="check" href="#\w+">(.*?)</a>', english))
