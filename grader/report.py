"""The README's table of known answers: what each wrong (and right) answer keeps, out of how many.

    python -m grader.report            # print the table
    python -m grader.report --readme   # write it into README.md between its markers

Points come from the graded cells of the instructor's notebooks; what each answer keeps is
measured by running the checks on it (grader/known_answers.py). tests/test_report.py fails when
the README's copy is out of date.
"""
import argparse
import json
from pathlib import Path

from .checks import check_ids_in

REPO = Path(__file__).resolve().parents[1]
START, END = "<!-- known-answers:start -->", "<!-- known-answers:end -->"


def points_by_check(root=REPO):
    """{check id: points} from the graded cells of solutions/*/*.ipynb."""
    points = {}
    for path in sorted((Path(root) / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("grade"):
                for check_id in check_ids_in("".join(cell["source"])):
                    points[check_id] = meta["points"]
    return points


def table(root=REPO):
    from .known_answers import RIGHT, WRONG, points_table
    rows = points_table(points_by_check(root), WRONG + RIGHT)
    lines = ["| exercise | answer | what it does | points kept |", "|---|---|---|---|"]
    right = {a.name for a in RIGHT}
    for exercise, name, description, kept, out_of in rows:
        kind = "✔ right" if name in right else "✘ wrong"
        lines.append(f"| `{exercise}` | {kind}: `{name}` | {description} | {kept:g} / {out_of:g} |")
    return "\n".join(lines)


def with_table(readme_text, markdown):
    if START not in readme_text or END not in readme_text:
        raise SystemExit(f"README.md has no {START} ... {END} markers")
    head, rest = readme_text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{markdown}\n{END}{tail}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", action="store_true", help="write the table into README.md")
    args = parser.parse_args(argv)
    markdown = table()
    if args.readme:
        readme = REPO / "README.md"
        readme.write_text(with_table(readme.read_text(), markdown))
    else:
        print(markdown)


if __name__ == "__main__":
    main()
