"""Asyncio HTTP clients for desktop-tier tests that also drive Playwright."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

import aiohttp


def run(scenario: Callable[[aiohttp.ClientSession], Awaitable[None]]) -> None:
    """Run ``scenario`` in a thread of its own: Playwright's sync API owns this thread's loop."""
    async def main() -> None:
        async with aiohttp.ClientSession() as session:
            await scenario(session)

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, main()).result()
