"""Debian's real headless Chromium for the page tests (never a downloaded browser)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Page, async_playwright

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def webrtc_args(spki: str, microphone: str | Path | None = None) -> list[str]:
    """Chromium for the browser phone: a fake microphone (a file it loops, or its own beep), media
    on loopback, and trust in the sandbox's WSS certificate by its key (tests and benches only)."""
    mic = [f"--use-file-for-fake-audio-capture={microphone}"] if microphone else []
    return [*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", *mic,
            "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns",
            "--autoplay-policy=no-user-gesture-required", f"--ignore-certificate-errors-spki-list={spki}"]


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
