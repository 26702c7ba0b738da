"""The worksheet: one source (worksheets/, the solution version), from which the build writes the students' version
(notebooks/). The students' version is up to date and gives nothing away; run as a student first meets it, every
check fails, clearly and with guidance, and runs to the end; the solution version passes every check; and the
checks themselves pass the right backward and name every mistake of the catalogue.
(The students' version also runs on Binder and Colab with every other notebook: tests/test_journeys.py.)"""

import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from relugrad import BUGS, hand_gradients
from relugrad import worksheet

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))
import colab_setup  # noqa: E402
import worksheets  # noqa: E402

SOURCES = sorted((ROOT / worksheets.SOURCES).glob("*.ipynb"))
SOURCE = ROOT / "worksheets" / "06_worksheet.ipynb"
STUDENT = ROOT / "notebooks" / "06_worksheet.ipynb"


def test_there_is_a_worksheet():
    assert SOURCES == [SOURCE] and STUDENT.exists()


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.stem)
def test_committed_students_version_is_what_the_build_writes(source):
    written = colab_setup.dumps(worksheets.student_version(json.loads(source.read_text())))
    assert (ROOT / "notebooks" / source.name).read_text() == written, (
        f"notebooks/{source.name} is not what the build writes from worksheets/{source.name}: edit the source, run "
        f"`python3 book.py build`, and commit the students' version it wrote")


def _code(notebook) -> str:
    return "\n".join("".join(c["source"]) for c in notebook["cells"])


def test_the_students_version_gives_no_solution_away():
    source, student = json.loads(SOURCE.read_text()), json.loads(STUDENT.read_text())
    for line in ("X.T @ G", "G @ W.T", "-2 * E", "(Z > 0)", "runs silently", "Solution version"):
        assert line in _code(source), line          # the source has it (else this test proves nothing)
        assert line not in _code(student), line     # and the students' version does not
    assert _code(student).count("raise NotImplementedError") == 2
    assert worksheets.MARKDOWN_PROMPT in _code(student)


def test_a_broken_mark_is_refused():
    broken = {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                         "source": ["def f():\n", "    ### BEGIN SOLUTION\n", "    return 1\n"]}]}
    with pytest.raises(worksheets.WorksheetError):
        worksheets.student_version(broken)


def _run_alone(path: Path, folder: Path) -> str:
    """Run the notebook alone in an empty folder, as a student's download; its outputs' text (no error allowed)."""
    alone = folder / path.name
    shutil.copy(path, alone)
    notebook = nbformat.read(alone, as_version=4)
    NotebookClient(notebook, timeout=600, startup_timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    errors = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{e.ename}: {e.evalue}" for e in errors]
    return "\n".join(o.get("text", "") for c in notebook.cells if c.cell_type == "code" for o in c.outputs)


def test_students_version_runs_and_every_check_fails_with_guidance(tmp_path):
    text = _run_alone(STUDENT, tmp_path)
    assert "All checks pass" not in text.split("Part 3")[0]
    assert "my_G is not finished: my_G: replace this line by your code" in text
    assert "my_G, which my_backward calls, is not finished" in text   # Part 2 names the unfinished Part 1
    assert "0 of 2 parts done." in text
    assert "this is the known mistake “missing mask”" in text   # Part 3, the demonstration, works unfilled


def test_solution_version_passes_every_check(tmp_path):
    text = _run_alone(SOURCE, tmp_path)
    assert text.count("All checks pass.") == 2 and "2 of 2 parts done." in text
    assert "✗ FAIL" in text.split("Part 3")[1]   # the demonstration still fails, as it must


def test_the_right_backward_passes_every_rung(capsys):
    report = worksheet.check_backward(hand_gradients, keep=False)
    assert report.passed and len(report.lines) == 6, str(report)
    assert worksheet.check_G(lambda Z, E: 2 * E * (Z > 0)).passed


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_every_catalogued_mistake_fails_and_is_named(bug, capsys):
    report = worksheet.check_backward(bug.gradients, keep=False)
    assert not report.passed
    assert f"“{bug.name}”" in report.diagnosis and worksheet.HINTS[bug.name] in report.diagnosis, str(report)
    with pytest.raises(AssertionError):
        report.raise_if_failed()


@pytest.mark.parametrize("wrong,named", [(lambda Z, E: 2 * E, "missing mask"), (lambda Z, E: E * (Z > 0), "missing factor 2"),
                                         (lambda Z, E: 2 * E * (Z >= 0), ">= for >")])
def test_a_wrong_G_is_named(wrong, named, capsys):
    report = worksheet.check_G(wrong)
    assert not report.passed and f"“{named}”" in report.diagnosis


def test_an_unknown_mistake_and_a_wrong_shape_get_guidance(capsys):
    unknown = worksheet.check_backward(lambda X, W, Y: tuple(3 * g for g in hand_gradients(X, W, Y)), keep=False)
    assert not unknown.passed and "not one of the catalogued mistakes" in unknown.diagnosis
    transposed_dY = worksheet.check_backward(lambda X, W, Y: (*hand_gradients(X, W, Y)[:2], hand_gradients(X, W, Y).dY.T),
                                             keep=False)
    assert not transposed_dY.passed and "shape of its variable" in transposed_dY.diagnosis
    two = worksheet.check_backward(lambda X, W, Y: hand_gradients(X, W, Y)[:2], keep=False)
    assert not two.passed and "three tensors" in str(two)


def test_code_that_branches_on_shapes_is_caught_by_the_square_case(capsys):
    def branching(X, W, Y):   # right when k != n; transposes dW back to the wrong orientation when k = n
        right = hand_gradients(X, W, Y)
        dW = right.dW.T
        if dW.shape != W.shape:
            dW = dW.T
        return dW, right.dX, right.dY
    report = worksheet.check_backward(branching, keep=False)
    assert not report.passed and "branch on" in report.diagnosis, str(report)
    assert [ok for ok, _ in report.lines[:3]] == [True, True, False], str(report)   # shapes, all different, then k = n


def test_graders_get_an_exception(capsys):
    worksheet._REPORTS.clear()
    with pytest.raises(AssertionError):
        worksheet.require_all_passed()
    worksheet.check_backward(hand_gradients)
    worksheet.require_all_passed()
    worksheet.check_G(lambda Z, E: torch.zeros_like(Z))
    with pytest.raises(AssertionError):
        worksheet.require_all_passed()


def test_an_unfinished_part_1_is_named_when_part_2_calls_it():
    def my_G(Z, E):
        raise NotImplementedError("replace this line by your code")

    def my_backward(X, W, Y):
        Z = X @ W
        E = torch.relu(Z) - Y
        G = my_G(Z, E)
        return X.T @ G, G @ W.T, -2 * E

    verdict = str(worksheet.check_backward(my_backward, keep=False))
    assert "my_G, which my_backward calls, is not finished" in verdict, verdict


def test_a_right_backward_in_float32_is_told_its_dtype_not_an_unknown_mistake():
    def my_backward(X, W, Y):
        X, W, Y = X.float(), W.float(), Y.float()
        Z = X @ W
        E = torch.relu(Z) - Y
        G = 2 * E * (Z > 0)
        return X.T @ G, G @ W.T, -2 * E

    verdict = str(worksheet.check_backward(my_backward, keep=False))
    assert "dW is float32" in verdict and "compute in the inputs' dtype" in verdict, verdict
    assert worksheet.UNKNOWN not in verdict
