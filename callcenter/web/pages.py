"""Page serving: a feature registers its pages and its static directory; the shell serves them.

- ``add_page(app, "/board", STATIC / "board.html")``: ``GET /board`` answers the file (never
  cached without asking again: a new release shows at the next load);
- ``add_static(app, "acd", STATIC)``: the files directly in that directory are
  ``GET /static/acd/<file>`` (JS, CSS; no CDN, no build step). The first registration also adds
  the shell's own files as ``/static/web/<file>`` (common.js, session.js, style.css).

All of them are one route, ``GET /static/{feature}/{name}`` (one public rule in the accounts
policy table: the files hold no data). A name is one path segment without a leading dot, so no
request reaches outside the registered directories.
"""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web

SHELL = "web"
SHELL_STATIC = Path(__file__).parent / "static"
STATIC_ROUTE = "/static/{feature}/{name}"
NO_CACHE = {"Cache-Control": "no-cache"}
_DIRS = web.AppKey("static_dirs", dict)
_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")


def add_page(app: web.Application, path: str, file: Path) -> None:
    """``GET path`` answers ``file`` (an HTML page of the feature that calls this)."""
    async def page(_request: web.Request) -> web.FileResponse:
        return web.FileResponse(file, headers=NO_CACHE)

    app.router.add_get(path, page)


def add_static(app: web.Application, feature: str, directory: Path) -> None:
    """Serve the files directly in ``directory`` as ``/static/<feature>/<file>``."""
    if not _NAME.match(feature):
        raise ValueError(f"not a feature name for a static URL: {feature!r}")
    dirs = _directories(app)
    if dirs.get(feature, directory) != directory:
        raise ValueError(f"/static/{feature}/ is already {dirs[feature]}")
    dirs[feature] = directory


def _directories(app: web.Application) -> dict[str, Path]:
    if _DIRS not in app:  # the first feature with pages installs the route and the shell's files
        app[_DIRS] = {SHELL: SHELL_STATIC}
        app.router.add_get(STATIC_ROUTE, _static_file)
    return app[_DIRS]


async def _static_file(request: web.Request) -> web.FileResponse:
    directory = request.app[_DIRS].get(request.match_info["feature"])
    name = request.match_info["name"]
    path = directory / name if directory is not None and _NAME.match(name) else None
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path)
