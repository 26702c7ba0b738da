"""Slide renditions of the notebooks' figures: the same code drawn again with larger type, for a projector.

A notebook figure is drawn for the book's text column (11 pt text at 120 dpi: 18 px in the PNG);
shown on a slide it is scaled to fit the slide's height and its labels shrink below what the back of a room can read.
This module runs each notebook that a slide draws a figure from again, from its executed copy, with every text of the
figures the slides use scaled up (FONT_SCALE, at least MIN_POINTS) before it is saved, so the slide shows the book's
figure from the book's code, never a copy. Each rendition's smallest text in PNG pixels is written beside it
(renditions.json), which the tests turn into projected pixels with the size the figure is shown at.

    python _ext/slide_figures.py <project root> [language]   (the deck's build runs it before sphinx-build; a no-op
                                      when the renditions are newer than the notebooks they come from; a language
                                      other than en draws the figures' words in it, into FOLDER/<language>/)
"""

import hashlib
import json
import os
import re
import sys
from pathlib import Path

FONT_SCALE = 1.6
MIN_POINTS = 16
FOLDER = Path("_build") / ".slide-figures"            # relative to the project root
INCLUSION = re.compile(r"^(?:`{3,}|:{3,})\{slide-figure\}[ \t]+(\S+)[ \t]+(\S+)", re.M)


def wanted(root: Path) -> dict[str, list[str]]:
    """{notebook: [figure names]} that the deck's slides include."""
    found: dict[str, list[str]] = {}
    for source in sorted((root / "slides").glob("*.md")):
        for notebook, name in INCLUSION.findall(source.read_text()):
            found.setdefault(notebook, []).append(name)
    return found


def _digest(root: Path, notebook: str, names: list[str], language: str = "en") -> str:
    sha = hashlib.sha256(Path(__file__).read_bytes() + language.encode())
    sha.update((root / "_build" / "jupyter_execute" / "notebooks" / f"{notebook}.ipynb").read_bytes())
    sha.update(" ".join(names).encode())
    return sha.hexdigest()


def folder_of(root: Path, language: str = "en") -> Path:
    """Where the renditions in `language` are: the English in FOLDER, another language's in its subfolder."""
    return root / FOLDER / ("" if language == "en" else language)


def render(root: Path, notebook: str, names: list[str], language: str = "en") -> dict[str, dict]:
    """Run the executed notebook's code again in this process, saving the named figures with larger type, their
    words in `language` (relugrad.figures shows that language's figure)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from IPython.core.interactiveshell import InteractiveShell

    import relugrad.figures
    relugrad.figures.shown_language = language
    folder = folder_of(root, language)
    cells = json.loads((root / "_build" / "jupyter_execute" / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]
    shell = InteractiveShell.instance()
    current, made = {"name": None}, {}

    def show(*args, **kwargs):
        name = current["name"]
        for number in plt.get_fignums():
            figure = plt.figure(number)
            if name in names and name not in made:
                figure.canvas.draw()   # tick labels get their text (and a size of their own) when drawn
                ticks = set()
                for ax in figure.axes:
                    ticks |= {id(t) for t in ax.get_xticklabels(which="both") + ax.get_yticklabels(which="both")}
                    for axis in (ax.xaxis, ax.yaxis):
                        size = axis.get_ticklabels()[0].get_fontsize() if axis.get_ticklabels() else 11
                        ax.tick_params(axis="x" if axis is ax.xaxis else "y", which="both",
                                       labelsize=max(size * FONT_SCALE, MIN_POINTS))
                for text in figure.findobj(matplotlib.text.Text):
                    if text.get_text().strip() and id(text) not in ticks:
                        text.set_fontsize(max(text.get_fontsize() * FONT_SCALE, MIN_POINTS))
                figure.set_size_inches(*(figure.get_size_inches() * 1.25))
                target = folder / f"{name}.png"
                figure.savefig(target, dpi=figure.dpi, metadata={"Software": None})
                # The smallest text that was drawn (tick labels included): what the tests scale to the screen.
                sizes = [text.get_fontsize() for text in figure.findobj(matplotlib.text.Text)
                         if text.get_text().strip() and text.get_visible()]
                made[name] = {"min_text_px": round(min(sizes) * figure.dpi / 72, 2), "png_width": round(
                    figure.get_size_inches()[0] * figure.dpi)}
            plt.close(figure)

    plt.show = show
    cwd = os.getcwd()
    os.chdir(root / "notebooks")
    try:
        for cell in cells:
            if cell["cell_type"] != "code":
                continue
            current["name"] = cell.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("name")
            result = shell.run_cell("".join(cell["source"]), silent=True)
            if not result.success:
                raise RuntimeError(f"{notebook}: a cell failed while drawing the slide figures: "
                                   f"{result.error_in_exec or result.error_before_exec!r}")
    finally:
        os.chdir(cwd)
    missing = set(names) - set(made)
    if missing:
        raise RuntimeError(f"{notebook}: no figure drawn for {', '.join(sorted(missing))}")
    return made


def main(root: Path, language: str = "en") -> None:
    folder = folder_of(root, language)
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / "renditions.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    figures = {}
    for notebook, names in wanted(root).items():
        digest = _digest(root, notebook, names, language)
        entry = manifest.get(notebook, {})
        if entry.get("digest") != digest or not all((folder / f"{n}.png").exists() for n in names):
            # One process per notebook: each runs in a fresh namespace, as its kernel did.
            import subprocess
            code = ("import sys, json; sys.path.insert(0, sys.argv[1] + '/_ext'); import slide_figures; "
                    "print(json.dumps(slide_figures.render(__import__('pathlib').Path(sys.argv[1]), sys.argv[3], "
                    "sys.argv[4:], sys.argv[2])))")
            done = subprocess.run([sys.executable, "-c", code, str(root), language, notebook, *names],
                                  capture_output=True,
                                  text=True, timeout=600, env={**os.environ, "MPLBACKEND": "Agg"})
            if done.returncode != 0:
                sys.exit(f"slide figures: {notebook} could not be drawn again:\n{done.stderr[-2000:]}")
            entry = {"digest": digest, "figures": json.loads(done.stdout.strip().splitlines()[-1])}
        manifest[notebook] = entry
        figures.update(entry["figures"])
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    if language != "en":   # the Chinese renditions' sizes are the English ones' (the tests read those)
        return
    # What the deck shows, beside its source (the tests read it): each figure's smallest text in PNG pixels.
    (root / "slides" / "_figures").mkdir(exist_ok=True)
    summary = root / "slides" / "_figures" / "renditions.json"
    text = json.dumps(figures, indent=1, sort_keys=True)
    if not summary.exists() or summary.read_text() != text:
        summary.write_text(text)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve(), *sys.argv[2:3])
