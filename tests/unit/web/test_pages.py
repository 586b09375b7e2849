"""The web shell's page serving: every asset a page names is served by the app as built, and a
static URL reaches nothing outside the registered directories."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from callcenter.app import build_app
from callcenter.infra.settings import Settings
from callcenter.web.pages import STATIC_ROUTE, add_page, add_static

PKG = Path(__file__).resolve().parents[3] / "callcenter"
ASSET = re.compile(r'(?:src|href)="(/static/[^"]+)"')
PAGES = {"/board": "acd/board/static/board.html", "/agent": "acd/board/static/agent.html",
         "/dept": "tickets/static/dept.html", "/dispatch": "dispatch/static/dispatch.html",
         "/admin": "accounts/static/admin.html", "/login": "accounts/static/login.html",
         "/knowledge": "knowledge/static/knowledge.html",
         "/qa": "quality/static/qa.html", "/calls/{call_id}": "recordings/static/call.html"}


def _app_routes() -> set[str]:
    app = build_app(Settings(env="test"))
    return {r.resource.canonical for r in app.router.routes() if r.resource is not None}


def test_each_page_is_its_features_file_and_its_assets_exist() -> None:
    routes = _app_routes()
    assert set(PAGES) | {STATIC_ROUTE} <= routes
    for url, file in PAGES.items():
        html = (PKG / file).read_text(encoding="utf-8")
        assets = ASSET.findall(html)
        assert "/static/web/style.css" in assets, url
        for asset in assets:
            _, _, feature, name = asset.split("/")
            # a feature's static directory: its page's, or (a feature with no page of its own, as the
            # browser phone the desk loads) callcenter/<feature>/static
            directory = PKG / "web" / "static" if feature == "web" else next(
                ((PKG / f).parent for f in PAGES.values() if Path(f).parts[0] == feature), PKG / feature / "static")
            assert (directory / name).is_file(), f"{url} names {asset}"


async def test_static_files_are_served_and_nothing_else(tmp_path: Path) -> None:
    (tmp_path / "own.js").write_text("1;")
    (tmp_path / ".hidden").write_text("secret")
    app = web.Application()
    add_page(app, "/page", tmp_path / "own.js")
    add_static(app, "feat", tmp_path)
    async with TestClient(TestServer(app)) as client:
        for url, status in [("/static/feat/own.js", 200), ("/static/web/common.js", 200), ("/page", 200),
                            ("/static/feat/.hidden", 404), ("/static/feat/..%2Fown.js", 404),
                            ("/static/feat/missing.js", 404), ("/static/other/own.js", 404),
                            ("/static/web/..", 404), ("/static/web/../pages.py", 404)]:
            async with client.get(url) as r:
                assert r.status == status, url
        async with client.get("/page") as r:
            assert r.headers["Cache-Control"] == "no-cache"


ICON = re.compile(r'<link rel="icon"[^>]*href="(/static/web/[^"]+)"')


async def test_each_page_links_a_served_public_favicon() -> None:
    """No favicon 404 on every page (#25 item 6): each page names an icon the app serves."""
    from callcenter.accounts.model import rule_for
    icons = {url: ICON.findall((PKG / file).read_text(encoding="utf-8")) for url, file in PAGES.items()}
    assert all(len(found) == 1 for found in icons.values()), icons
    (icon,) = {found[0] for found in icons.values()}
    rule = rule_for("GET", STATIC_ROUTE)
    assert rule is not None and rule.roles is None  # public, like the other static files
    app = web.Application()
    add_static(app, "feat", PKG / "web" / "static")
    async with TestClient(TestServer(app)) as client, client.get(icon) as r:
        assert r.status == 200 and r.content_type.startswith("image/"), (icon, r.status, r.content_type)
