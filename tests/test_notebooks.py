"""Every notebook is committed clean and runs on its own, as on Binder or Colab: copied alone into an empty folder."""

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))


def test_every_notebook_is_in_the_table_of_contents_in_order():
    import yaml
    toc = yaml.safe_load((NOTEBOOKS[0].parent.parent / "_toc.yml").read_text())
    listed = [c["file"] for part in toc["parts"] for c in part["chapters"] if c["file"].startswith("notebooks/")]
    assert listed == [f"notebooks/{p.stem}" for p in NOTEBOOKS]
    assert [p.name[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(1, len(NOTEBOOKS) + 1)]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_on_its_own(path, tmp_path):
    alone = tmp_path / path.name
    shutil.copy(path, alone)
    notebook = nbformat.read(alone, as_version=4)
    # allow_errors: an error stays in the outputs, where the assertion below reports it (without it, nbclient
    # raises at the first error and the assertion could never fail).
    NotebookClient(notebook, timeout=600, startup_timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
              for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, f"{path.name} fails on its own: {errors}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_figure_has_alt_text(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "plt.show()" in cell.source:
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 40, f"{path.name}: a figure without real alt text"
