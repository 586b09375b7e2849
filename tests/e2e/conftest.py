"""Pages in Debian's real headless Chromium (never a downloaded browser), against the stack."""

from __future__ import annotations

import pytest
from chromium_support import chromium_page


@pytest.fixture
async def browser_page(stack, request):
    """A page in a fresh context; the test module may set VIEWPORT. JavaScript errors fail it."""
    async with chromium_page(viewport=getattr(request.module, "VIEWPORT", None), timezone_id="Asia/Shanghai") as page:
        yield page
