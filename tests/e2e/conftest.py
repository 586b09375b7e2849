"""Pages in Debian's real headless Chromium (never a downloaded browser), against the stack."""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
async def browser_page(stack, request):
    """A page in a fresh context; the test module may set VIEWPORT. JavaScript errors fail it."""
    viewport = getattr(request.module, "VIEWPORT", {"width": 1400, "height": 1000})
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page
        finally:
            await context.close()
            await browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"

