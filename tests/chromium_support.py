"""Debian's real headless Chromium for the page tests (never a downloaded browser)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from playwright.async_api import Page, async_playwright

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@contextlib.asynccontextmanager
async def chromium_page(args: list[str] = CHROMIUM_ARGS, *, viewport: dict | None = None,
                        **context: object) -> AsyncIterator[Page]:
    """A page of Debian's Chromium in a fresh context, closed after; JavaScript errors on it fail."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        ctx = await browser.new_context(viewport=viewport or {"width": 1400, "height": 1000}, locale="zh-CN",
                                        **context)
        page = await ctx.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            yield page
        finally:
            await ctx.close()
            await browser.close()
        assert not errors, f"JavaScript errors on the page: {errors}"
