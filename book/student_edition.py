"""The student edition: a folder a course publishes as its students' repository.

``python -m book.student_edition examples`` regenerates ``course_runtime/examples.json``, the
visible checks' cases and expected outputs, from the grader's checks and reference (commit it; a
test fails when it is stale). ``python -m book.student_edition build [OUT]`` (``make student``)
writes OUT (default ``_build/student``) and ``OUT.zip``: the chapter notebooks of ``chapters/`` and
their Chinese versions (``chapters_zh/``, the same file names), the runtime, a pinned
``requirements.txt`` and the students' README in English and in Chinese; nothing of the instructor's.
"""
import argparse
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "course_runtime" / "examples.json"
# The edition's direct dependencies, pinned to the versions of constraints.txt. jupyterlab-myst
# renders the chapters' MyST ({term} roles, admonitions) in JupyterLab. No nbgrader: its JupyterLab
# extensions are the instructor's (Create Assignment, Formgrader), and students need none of it.
# pylopdf-fonts-zh-cn: Noto Sans SC, the font of the figures' Chinese labels (course_runtime/figures.py).
# babel: the runtime reads its messages' catalogs (course_runtime/locale/) with it, so it is pinned
# here rather than left to come with JupyterLab.
REQUIREMENTS = ("mxnet", "numpy", "matplotlib", "jupyterlab", "jupyterlab-myst", "pylopdf-fonts-zh-cn", "babel")
# The runtime's message catalogs (course_runtime.i18n): its messages and the figures' words.
CATALOGS = "locale/*/LC_MESSAGES/*.po"
ZIP_FOLDER = "cnn-course-student"   # the folder a student gets when unzipping the download


# ---------------------------------------------------------------- examples.json

def _encode(value):
    if isinstance(value, np.ndarray):
        return {"array": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"cannot store {type(value).__name__} in examples.json")


def _kind_and_expected(check, case):
    """How the runtime calls the answer (course_runtime.checking.KINDS), and what it expects."""
    from grader import checks, reference
    from grader.checks import _nd, _reference_output

    if check.run is checks._call_xk:
        return "xk", {"expected": _reference_output(check.exercise, case)}
    if check.run is checks._run_pad_stride:
        return "pad_stride", {"expected": _reference_output(check.exercise, case)}
    if check.run is checks._run_conv2d_forward:
        inputs = [_nd(case.inputs[k].astype("float64")) for k in ("X", "weight", "bias")]
        return "conv2d", {"expected": reference.conv2d_forward(*inputs).asnumpy()}
    if check.run is checks._run_output_shape:
        i = case.inputs
        return "output_shape", {"expected": reference.conv2d_output_shape(i["input_shape"], i["kernel_size"],
                                                                          i["padding"], i["strides"])}
    if check.run is checks._run_train_kernel:
        if not case.inputs.get("defaults"):
            raise ValueError(f"{check.id}: the runtime calls train_kernel with its defaults only")
        return "train_kernel", {"expected": case.truth["K_true"], "tolerance": case.truth.get("tolerance", 1e-2)}
    raise ValueError(f"{check.id}: the student runtime does not know how to run this check; "
                     "add its kind to course_runtime/checking.py and here")


def examples():
    """{"examples": {check id: its cases}, "hidden": [ids]}: what the runtime needs, plain data. The
    cases' descriptions and the summaries are kept in every language of the course ({"en": ...,
    "zh_CN": ...}): the runtime shows the one of the notebook's language."""
    from course_runtime import i18n
    from grader.checks import CHECKS, make_cases

    def in_languages(make):
        texts = {}
        for language in i18n.LANGUAGES:
            with i18n.speaking(language):
                texts[language] = make()
        return texts

    visible, hidden = {}, []
    for check_id, check in CHECKS.items():
        if not check_id.endswith(".example"):
            hidden.append(check_id)
            continue
        cases, kinds = [], set()
        texts = in_languages(lambda: [case.text for case in make_cases(check, "", "")])
        for n, case in enumerate(make_cases(check, "", "")):  # the examples are fixed: no seed changes them
            kind, stored = _kind_and_expected(check, case)
            kinds.add(kind)
            inputs = {k: v for k, v in case.inputs.items() if k != "defaults"}
            cases.append({"text": {language: texts[language][n] for language in texts}, "inputs": inputs, **stored})
        (kind,) = kinds
        visible[check_id] = {"exercise": check.exercise, "summary": in_languages(check.summary_text), "kind": kind,
                             "mxnet_random": check.mxnet_random, "cases": cases}
    return {"examples": visible, "hidden": hidden}


def _plain(value):
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return _encode(value)


def examples_text():
    header = {"about": "Generated by `python -m book.student_edition examples` from grader/checks.py and "
                       "grader/reference.py: the visible checks' cases and expected outputs. Do not edit."}
    data = {**header, **_plain(examples())}
    # One line per case: readable diffs without one line per number.
    cases = {}
    for example in data["examples"].values():
        tokens = []
        for case in example["cases"]:
            tokens.append(f"@case{len(cases)}@")
            cases[tokens[-1]] = json.dumps(case, ensure_ascii=False)
        example["cases"] = tokens
    text = json.dumps(data, indent=1, ensure_ascii=False)
    for token, case in cases.items():
        text = text.replace(f'"{token}"', case)
    return text + "\n"


# ---------------------------------------------------------------- the edition

def requirements(constraints=REPO / "constraints.txt"):
    pins = {}
    for line in Path(constraints).read_text().splitlines():
        name, sep, version = line.strip().partition("==")
        if sep and not name.startswith("#"):
            pins[canonicalize_name(name)] = version  # jupyterlab_myst: jupyterlab-myst
    missing = [name for name in REQUIREMENTS if name not in pins]
    if missing:
        raise SystemExit(f"constraints.txt pins no {', '.join(missing)}")
    lines = ["# The student edition's packages, pinned as in the course's constraints.txt.",
             "# MXNet 1.9.1 imports only with numpy < 1.24, which has wheels up to Python 3.11.",
             *(f"{name}=={pins[name]}" for name in REQUIREMENTS),
             "# The course's runtime (course_runtime/), from this folder: run pip from here.",
             "-e ."]
    return "\n".join(lines) + "\n"


# The student notebooks in each language: English, and Chinese (book/zh/notebooks.py, make release).
NOTEBOOK_FOLDERS = ("chapters", "chapters_zh")
READMES = ("README.md", "README.zh.md")


def notebooks(root=REPO):
    found = [sorted((root / folder).glob("*/*.ipynb")) for folder in NOTEBOOK_FOLDERS]
    english = {p.relative_to(root / NOTEBOOK_FOLDERS[0]) for p in found[0]}
    for folder, paths in zip(NOTEBOOK_FOLDERS[1:], found[1:]):
        if {p.relative_to(root / folder) for p in paths} != english:
            raise SystemExit(f"{folder}/ does not hold the notebooks of chapters/: run `make release`")
    return [p for paths in found for p in paths]


def build(out, root=REPO):
    """Write the edition into ``out`` (emptied first) and zip it into ``out`` + ``.zip``."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    for notebook in notebooks(root):
        target = out / notebook.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(notebook, target)
    (out / "course_runtime").mkdir(parents=True)
    for path in sorted((root / "course_runtime").iterdir()):
        if path.suffix in (".py", ".json"):
            shutil.copyfile(path, out / "course_runtime" / path.name)
    for catalog in sorted((root / "course_runtime").glob(CATALOGS)):   # the runtime's messages in Chinese
        target = out / catalog.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(catalog, target)
    for name in (*READMES, "pyproject.toml", ".gitignore"):
        shutil.copyfile(root / "book" / "student" / name, out / name)
    (out / "requirements.txt").write_text(requirements(root / "constraints.txt"))
    archive = out.with_name(out.name + ".zip")
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(p for p in out.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(f"{ZIP_FOLDER}/{path.relative_to(out).as_posix()}", date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            zipped.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return out, archive


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("examples", help="regenerate course_runtime/examples.json")
    builder = commands.add_parser("build", help="write the edition folder and its zip")
    builder.add_argument("out", nargs="?", type=Path, default=REPO / "_build" / "student")
    args = parser.parse_args()
    if args.command == "examples":
        EXAMPLES.write_text(examples_text(), encoding="utf8")
        print(f"wrote {EXAMPLES.relative_to(REPO)}")
    else:
        folder, archive = build(args.out)
        print(f"student edition: {folder} and {archive}")
