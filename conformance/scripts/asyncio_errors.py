"""asyncio error paths (needs JSPI under Node; output also matches native CPython): exceptions in gather (return_exceptions), as_completed order, asyncio.timeout, shield, run_in_executor absence of threads not used, loop.call_later ordering."""
import asyncio

async def boom(d):
    await asyncio.sleep(d)
    raise ValueError(f"boom {d}")

async def main():
    r = await asyncio.gather(boom(0.01), asyncio.sleep(0.02, result="ok"), return_exceptions=True)
    print("gather return_exceptions", [repr(x) for x in r])
    try:
        await asyncio.gather(boom(0.01), asyncio.sleep(0.02))
    except ValueError as e:
        print("gather raises", e)
    order = []
    for fut in asyncio.as_completed([asyncio.sleep(0.03, "slow"), asyncio.sleep(0.01, "fast")]):
        order.append(await fut)
    print("as_completed", order)
    if hasattr(asyncio, "timeout"):
        try:
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)
        except TimeoutError:
            print("asyncio.timeout -> TimeoutError")
    loop = asyncio.get_running_loop()
    calls = []
    done = loop.create_future()
    loop.call_later(0.02, calls.append, "later")
    loop.call_soon(calls.append, "soon")
    loop.call_later(0.03, done.set_result, None)
    await done
    print("callbacks", calls)
    inner = asyncio.ensure_future(asyncio.sleep(0.01, "shielded"))
    try:
        await asyncio.wait_for(asyncio.shield(inner), 0.001)
    except asyncio.TimeoutError:
        print("shield timed out, inner cancelled?", inner.cancelled())
    print("inner result", await inner)
    done, pending = await asyncio.wait([asyncio.ensure_future(asyncio.sleep(0.01)), asyncio.ensure_future(asyncio.sleep(1))], timeout=0.05)
    print("wait", len(done), len(pending))
    for p in pending:
        p.cancel()

asyncio.run(main())
print("finished")
