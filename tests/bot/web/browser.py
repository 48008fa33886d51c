"""Debian's chromium, headless, driven by Playwright (never Playwright's own browser download)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("DONATION_WATCH_TEST_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless run as root in a container, with nothing phoning home.
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
]
# Screenshots are kept here as test artefacts (ignored by git).
ARTEFACTS = Path(__file__).resolve().parents[3] / "test-artefacts" / "page"


def need_chromium() -> None:
    """Skip loudly when the system chromium is missing (`make test` installs it)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run `make test` (it installs Debian's chromium)")


@asynccontextmanager
async def chromium(profile: Path, *, width: int = 1280, height: int = 900, javascript: bool = True) -> AsyncIterator[Any]:
    """A fresh browser context (its own --user-data-dir) at the given viewport size."""
    from playwright.async_api import async_playwright

    need_chromium()
    async with async_playwright() as pw:
        context = await pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": width, "height": height}, java_script_enabled=javascript,
        )
        try:
            yield context
        finally:
            await context.close()
