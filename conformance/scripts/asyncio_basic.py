"""asyncio (needs JSPI under Node: run.mjs passes --experimental-wasm-stack-switching like Pyodide's launcher; the output also matches native CPython): asyncio.run with sleeps, gather ordering, Queue producer/consumer, wait_for timeout, create_task + cancel, TaskGroup, Event, Semaphore."""
import asyncio

async def worker(name, delay, log):
    await asyncio.sleep(delay)
    log.append(name)
    return name.upper()

async def main():
    log = []
    res = await asyncio.gather(worker("c", 0.03, log), worker("a", 0.01, log), worker("b", 0.02, log))
    print("gather results", res, "completion order", log)
    q = asyncio.Queue(maxsize=2)
    out = []
    async def producer():
        for i in range(5):
            await q.put(i)
        await q.put(None)
    async def consumer():
        while (item := await q.get()) is not None:
            out.append(item * 10)
    await asyncio.gather(producer(), consumer())
    print("queue", out)
    try:
        await asyncio.wait_for(asyncio.sleep(10), timeout=0.02)
    except asyncio.TimeoutError:
        print("wait_for timed out")
    t = asyncio.create_task(asyncio.sleep(10))
    await asyncio.sleep(0)
    t.cancel()
    try:
        await t
    except asyncio.CancelledError:
        print("task cancelled", t.cancelled())
    ev = asyncio.Event()
    async def setter():
        await asyncio.sleep(0.01)
        ev.set()
    asyncio.create_task(setter())
    await ev.wait()
    print("event set", ev.is_set())
    sem = asyncio.Semaphore(2)
    active, peak = 0, 0
    async def limited(i):
        nonlocal active, peak
        async with sem:
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.005)
            active -= 1
        return i
    print("semaphore", await asyncio.gather(*(limited(i) for i in range(6))), "peak", peak)
    if hasattr(asyncio, "TaskGroup"):
        async with asyncio.TaskGroup() as tg:
            t1 = tg.create_task(worker("x", 0.01, log))
            t2 = tg.create_task(worker("y", 0.0, log))
        print("taskgroup", t1.result(), t2.result())
    return "done"

print("asyncio.run ->", asyncio.run(main()))
