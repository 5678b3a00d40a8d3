/**
 * The asyncio shapes in the Promise face, for async functions: every call,
 * cancellation delivered where the function awaits (its finally blocks
 * observed), TaskGroup with `await using` and `TaskGroup.run`. Nothing
 * waits on the clock: tasks are coordinated with Events, and timeouts are 0.
 */
import test from "ava"
import {
  BoundedSemaphore,
  CancelledError,
  createTask,
  currentTask,
  Event,
  gather,
  InvalidStateError,
  Lock,
  Queue,
  QueueEmpty,
  QueueFull,
  ReleaseError,
  run,
  Semaphore,
  shield,
  sleep,
  Task,
  TaskGroup,
  TaskGroupError,
  TimeoutError,
  waitFor
} from "../../../patterns/asyncio/promise/index.ts"

const never = () => new Event().wait()
/** Lets other tasks run for a few turns. */
const yieldMany = async (n = 5) => {
  for (let i = 0; i < n; i++) await sleep(0)
}

test("createTask: starts soon; await gives the value; done, result, exception, name", async (t) => {
  let started = false
  const task = createTask(async () => {
    started = true
    return 42
  }, { name: "answer" })
  t.true(task instanceof Task)
  t.false(started)
  t.false(task.done())
  t.throws(() => task.result(), { instanceOf: InvalidStateError })
  t.is(await task, 42)
  t.true(task.done())
  t.false(task.cancelled())
  t.is(task.result(), 42)
  t.is(task.exception(), undefined)
  t.is(task.getName(), "answer")
})

test("a task that throws: await rejects with its error, exception() returns it", async (t) => {
  const task = createTask(async () => {
    throw new Error("boom")
  })
  await t.throwsAsync(async () => await task, { message: "boom" })
  t.is((task.exception() as Error).message, "boom")
  t.throws(() => task.result(), { message: "boom" })
})

test("cancel delivers CancelledError where the function awaits, its finally blocks run, and the task ends cancelled", async (t) => {
  const log: Array<string> = []
  const entered = new Event()
  const task = createTask(async (signal) => {
    try {
      entered.set()
      await never()
      log.push("not reached")
    } catch (e) {
      log.push(`caught ${(e as CancelledError)._tag}: ${(e as Error).message}`)
      throw e
    } finally {
      log.push(`finally, signal aborted: ${signal.aborted}`)
    }
  })
  await entered.wait()
  t.true(task.cancel("stop now"))
  const error = await task.then(() => undefined, (e: unknown) => e)
  t.true(error instanceof CancelledError)
  t.is((error as CancelledError).message, "stop now")
  t.deepEqual(log, ["caught CancelledError: stop now", "finally, signal aborted: true"])
  t.true(task.cancelled())
  t.throws(() => task.exception(), { instanceOf: CancelledError })
  t.false(task.cancel())
})

test("cancel waits for the function's cleanup, even cleanup that awaits", async (t) => {
  const log: Array<string> = []
  const entered = new Event()
  const task = createTask(async () => {
    try {
      entered.set()
      await never()
    } catch {
      await sleep(0) // the cancellation was delivered once: cleanup may await
      log.push("cleaned up")
    }
    return "swallowed"
  })
  await entered.wait()
  task.cancel()
  await task.then(undefined, () => undefined)
  t.deepEqual(log, ["cleaned up"])
  t.true(task.cancelled(), "a cancelled task ends cancelled")
})

test("a cancel that arrives outside an asyncio await is delivered at the next one", async (t) => {
  const log: Array<string> = []
  let release!: () => void
  const plain = new Promise<void>((resolve) => (release = resolve))
  const entered = new Event()
  const task = createTask(async () => {
    entered.set()
    await plain // not an asyncio operation: cannot be interrupted
    log.push("after the plain promise")
    try {
      await sleep(0)
      log.push("not reached")
    } finally {
      log.push("finally")
    }
  })
  await entered.wait()
  task.cancel()
  release()
  await task.then(undefined, () => undefined)
  t.deepEqual(log, ["after the plain promise", "finally"])
  t.true(task.cancelled())
})

test("cancelling a task that has not started: its function never runs", async (t) => {
  let ran = false
  const task = createTask(async () => {
    ran = true
  })
  task.cancel()
  await t.throwsAsync(async () => await task, { instanceOf: CancelledError })
  t.false(ran)
})

test("awaiting a task from a task that is cancelled cancels the awaited task (Python semantics)", async (t) => {
  const inner = createTask(never)
  const entered = new Event()
  const outer = createTask(async () => {
    entered.set()
    await inner
  })
  await entered.wait()
  await yieldMany()
  outer.cancel()
  await outer.then(undefined, () => undefined)
  await inner.then(undefined, () => undefined)
  t.true(inner.cancelled())
})

test("a task over a plain promise: awaitable, and cancellable (the waiting stops)", async (t) => {
  t.is(await createTask(Promise.resolve("plain")), "plain")
  const stuck = createTask(new Promise(() => {}))
  await yieldMany()
  stuck.cancel()
  await t.throwsAsync(async () => await stuck, { instanceOf: CancelledError })
})

test("addDoneCallback runs after completion, never synchronously", async (t) => {
  const calls: Array<string> = []
  const task = createTask(async () => "v")
  task.addDoneCallback((x) => calls.push(`done ${x.result()}`))
  await task
  await yieldMany(1)
  t.deepEqual(calls, ["done v"])
})

test("currentTask names the running task; run() runs main as a task", async (t) => {
  t.is(currentTask(), undefined)
  const task: Task<boolean, unknown> = createTask(async () => {
    await sleep(0)
    return currentTask() === task // not the task itself: returning a thenable awaits it
  })
  t.true(await task)
  t.regex(await run(async () => currentTask()!.getName()), /^Task-\d+$/)
  t.is(await run(async () => 42), 42)
})

test("sleep resolves with its value", async (t) => {
  t.is(await sleep(0, "Done!"), "Done!")
  t.is(await sleep(0), undefined)
})

test("gather: values in order; functions, tasks and promises mix", async (t) => {
  const gate = new Event()
  const order: Array<string> = []
  const slow = async () => {
    await gate.wait()
    order.push("slow")
    return "slow"
  }
  const fast = createTask(async () => {
    order.push("fast")
    gate.set()
    return "fast"
  })
  t.deepEqual(await gather([slow, fast, Promise.resolve(3)]), ["slow", "fast", 3])
  t.deepEqual(order, ["fast", "slow"])
  t.deepEqual(await gather([]), [])
})

test("gather: the first error rejects it and the others keep running; returnExceptions makes errors values", async (t) => {
  const gate = new Event()
  const sibling = createTask(async () => {
    await gate.wait()
    return "sibling"
  })
  await t.throwsAsync(gather([sibling, async () => { throw new Error("no") }]), { message: "no" })
  t.false(sibling.done())
  gate.set()
  t.is(await sibling, "sibling")

  const victim = createTask(never)
  const results = gather([async () => { throw new Error("no") }, async () => 1, victim], { returnExceptions: true })
  await yieldMany()
  victim.cancel()
  const [a, b, c] = await results
  t.is((a as Error).message, "no")
  t.is(b, 1)
  t.true(c instanceof CancelledError)
})

test("cancelling the task that gathers cancels what it gathers", async (t) => {
  const log: Array<number> = []
  const child = (n: number) => async () => {
    try {
      await never()
    } finally {
      log.push(n)
    }
  }
  const entered = new Event()
  const outer = createTask(async () => {
    entered.set()
    await gather([child(1), child(2)])
  })
  await entered.wait()
  await yieldMany()
  outer.cancel()
  await outer.then(undefined, () => undefined)
  t.deepEqual(log.sort(), [1, 2])
})

test("waitFor: the value in time; on timeout the task is cancelled (finally observed) and TimeoutError", async (t) => {
  t.is(await waitFor(async () => "quick", null), "quick")
  t.is(await waitFor(Promise.resolve("already"), undefined), "already")
  const log: Array<string> = []
  const slow = createTask(async () => {
    try {
      await never()
    } finally {
      log.push("finally")
    }
  })
  await yieldMany()
  const error = await waitFor(slow, 0).then(() => undefined, (e) => e)
  t.true(error instanceof TimeoutError)
  t.true(slow.cancelled())
  t.deepEqual(log, ["finally"])
})

test("shield: the awaiting task is cancelled, the shielded work goes on", async (t) => {
  const gate = new Event()
  let saved = false
  const save = createTask(async () => {
    await gate.wait()
    saved = true
    return "saved"
  })
  const entered = new Event()
  const outer = createTask(async () => {
    entered.set()
    return shield(save)
  })
  await entered.wait()
  await yieldMany()
  outer.cancel()
  await t.throwsAsync(async () => await outer, { instanceOf: CancelledError })
  t.false(save.done())
  gate.set()
  t.is(await save, "saved")
  t.true(saved)
  await t.throwsAsync(waitFor(() => shield(never), 0), { instanceOf: TimeoutError })
})

test("Queue: backpressure at maxsize, putNowait/getNowait errors, join after taskDone", async (t) => {
  const q = new Queue<number>(2)
  t.is(q.maxsize, 2)
  await q.put(1)
  q.putNowait(2)
  t.true(q.full())
  t.throws(() => q.putNowait(3), { instanceOf: QueueFull })
  let third = false
  const putter = q.put(3).then(() => (third = true))
  await yieldMany()
  t.false(third, "put waits while the queue is full")
  t.is(await q.get(), 1)
  await putter
  t.is(q.qsize(), 2)
  t.is(q.getNowait(), 2)
  t.is(await q.get(), 3)
  t.true(q.empty())
  t.throws(() => q.getNowait(), { instanceOf: QueueEmpty })

  let joined = false
  const joining = q.join().then(() => (joined = true))
  await yieldMany()
  t.false(joined, "three items taken, none done")
  q.taskDone()
  q.taskDone()
  await yieldMany()
  t.false(joined)
  q.taskDone()
  await joining
  t.throws(() => q.taskDone(), { instanceOf: ReleaseError })
})

test("Queue: a consumer task cancelled in get runs its finally", async (t) => {
  const q = new Queue<string>()
  const log: Array<string> = []
  const consumer = createTask(async () => {
    try {
      for (;;) log.push(await q.get())
    } finally {
      log.push("consumer stopped")
    }
  })
  await q.put("a")
  await yieldMany()
  consumer.cancel()
  await consumer.then(undefined, () => undefined)
  t.deepEqual(log, ["a", "consumer stopped"])
})

test("Lock: exclusive, `using _ = await lock.hold()`, ReleaseError when unlocked", async (t) => {
  const lock = new Lock()
  let inside = 0
  let most = 0
  const gate = new Event()
  const worker = async () => {
    using _ = await lock.hold()
    inside++
    most = Math.max(most, inside)
    await gate.wait()
    inside--
  }
  const all = gather([worker, worker, worker])
  await yieldMany()
  t.true(lock.locked())
  gate.set()
  await all
  t.is(most, 1)
  t.false(lock.locked())
  t.true(await lock.acquire())
  lock.release()
  t.throws(() => lock.release(), { instanceOf: ReleaseError })
})

test("Lock: a task cancelled while waiting for the lock does not take it", async (t) => {
  const lock = new Lock()
  await lock.acquire()
  const waiter = createTask(() => lock.acquire())
  await yieldMany()
  waiter.cancel()
  await waiter.then(undefined, () => undefined)
  lock.release()
  t.false(lock.locked())
})

test("Event: set wakes waiters; clear; isSet", async (t) => {
  const event = new Event()
  const waiters = gather([() => event.wait(), () => event.wait()])
  await yieldMany()
  t.false(event.isSet())
  event.set()
  t.deepEqual(await waiters, [true, true])
  t.true(event.isSet())
  event.clear()
  t.false(event.isSet())
})

test("Semaphore: at most `value` holders; BoundedSemaphore refuses an extra release", async (t) => {
  const sem = new Semaphore(2)
  let inside = 0
  let most = 0
  const gate = new Event()
  const worker = async () => {
    using _ = await sem.hold()
    inside++
    most = Math.max(most, inside)
    await gate.wait()
    inside--
  }
  const all = gather([worker, worker, worker, worker])
  await yieldMany()
  t.true(sem.locked())
  gate.set()
  await all
  t.is(most, 2)
  t.false(sem.locked())
  sem.release() // plain Semaphore: grows
  const bounded = new BoundedSemaphore(1)
  await bounded.acquire()
  bounded.release()
  t.throws(() => bounded.release(), { instanceOf: ReleaseError })
})

test("TaskGroup with `await using`: leaving the block waits for every task", async (t) => {
  const done: Array<string> = []
  const gate = new Event()
  {
    await using tg = new TaskGroup()
    tg.createTask(async () => {
      await gate.wait()
      done.push("a")
    })
    tg.createTask(async () => {
      done.push("b")
      gate.set()
    })
    t.is(tg.tasks().length, 2)
  }
  t.deepEqual(done, ["b", "a"])
})

test("TaskGroup with `await using`: a failing task cancels its siblings (finally observed) and the block throws TaskGroupError", async (t) => {
  const log: Array<string> = []
  let group!: TaskGroup
  const error = await (async () => {
    await using tg = new TaskGroup()
    group = tg
    tg.createTask(async () => {
      try {
        await never()
      } finally {
        log.push("sibling finally")
      }
    })
    tg.createTask(async () => {
      await sleep(0)
      throw new Error("boom")
    })
  })().then(() => undefined, (e) => e)
  t.true(error instanceof TaskGroupError)
  t.is((error.errors[0] as Error).message, "boom")
  t.deepEqual(log, ["sibling finally"])
  t.throws(() => group.createTask(async () => 1), { instanceOf: InvalidStateError })
})

test("TaskGroup.run: a failing task cancels the body too", async (t) => {
  const log: Array<string> = []
  const error = await TaskGroup.run(async (tg) => {
    tg.createTask(async () => {
      await sleep(0)
      throw new Error("task failed")
    })
    try {
      await never()
    } finally {
      log.push("body finally")
    }
  }).then(() => undefined, (e) => e)
  t.true(error instanceof TaskGroupError)
  t.deepEqual(log, ["body finally"])
  t.is(await TaskGroup.run(async (tg) => 2 * (await tg.createTask(async () => 21))), 42)
})
