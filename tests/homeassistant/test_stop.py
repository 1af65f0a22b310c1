"""A stop ends the bridge's task even when a cancel is swallowed on the way, as Python
3.11's asyncio.wait_for does when the cancel meets a publish's acknowledgement."""

from __future__ import annotations

import asyncio

from smartload.homeassistant import cancel_until_done


async def test_a_task_that_swallows_a_cancel_is_cancelled_again_until_it_ends() -> None:
    cancels = 0

    async def stubborn() -> None:
        nonlocal cancels
        while True:
            try:
                await asyncio.Event().wait()  # waits for ever, as the bridge serving messages
            except asyncio.CancelledError:
                cancels += 1
                if cancels == 3:
                    raise
                asyncio.current_task().uncancel()  # type: ignore[union-attr]  # swallowed, as wait_for did

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_until_done(task), timeout=10)
    assert (task.cancelled(), cancels) == (True, 3)


async def test_a_task_that_ends_at_the_first_cancel_is_cancelled_once() -> None:
    cancels = 0

    async def polite() -> None:
        nonlocal cancels
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancels += 1
            raise

    task = asyncio.create_task(polite())
    await asyncio.sleep(0)
    await cancel_until_done(task)
    assert (task.cancelled(), cancels) == (True, 1)
