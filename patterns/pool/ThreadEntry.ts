/**
 * A pool's worker thread: a {@link Runner} fed from a `MessagePort`.
 *
 * While it has nothing to run, the thread sleeps in `Atomics.wait` on a
 * shared counter that the pool bumps after every message, and takes its
 * messages with `receiveMessageOnPort`: waking costs a futex, not an event
 * loop turn. While a task runs asynchronously, messages arrive as events.
 *
 * @since 0.2.0
 */
import { getHeapStatistics } from "node:v8"
import { getEnvironmentData, type MessagePort, receiveMessageOnPort, workerData } from "node:worker_threads"
import { Codec } from "../../core/index.ts"
import { Runner, type ToWorker } from "./Runner.ts"
import { bindRunner } from "./Channel.ts"

// The parent has a shared heap (it loaded rankflow/patterns/sync): shared
// objects may arrive as arguments, so this thread's codec must know how to
// rebuild them over the same memory. Threads of programs that never share
// memory do not pay for loading the primitives.
if (getEnvironmentData("rankflow/patterns/sync/heap") !== undefined) await import("../sync/index.ts")
else {
  // Started before the parent had one: a shared object cannot be rebuilt here. Say why (the words of
  // SharedMemoryUnavailable's "heap" reason), rather than "unknown extension", without loading the primitives.
  Codec.register(class NoSharedHeap {}, 0x1f /* the shared objects' extension (sync/Heap.ts CODEC_TYPE) */, {
    encode: () => null,
    decode: (encoded: unknown) => {
      const what = Array.isArray(encoded) ? String(encoded[0]) : "shared object"
      const e = new Error(
        `this ${what} lives in a shared heap this thread cannot see: the pool started this thread before ` +
          `rankflow/patterns/sync was loaded. Import rankflow/patterns/sync before the pool's first task`
      )
      e.name = "SharedMemoryUnavailable"
      throw e
    }
  })
}

const { port, sab } = workerData as { port: MessagePort; sab: SharedArrayBuffer }
const counter = new Int32Array(sab)
let seen = 0
let idling = false

const runner = new Runner({
  transfer: true,
  post: (m, list) => port.postMessage(m, list),
  memory: () => getHeapStatistics().used_heap_size,
  exit: (code) => {
    port.close()
    process.exit(code)
  }
})
bindRunner(runner)

const drain = (): void => {
  let e
  while ((e = receiveMessageOnPort(port)) !== undefined) runner.receive(e.message as ToWorker)
}

const idle = (): void => {
  if (idling) return
  if (process.stdout.writableLength > 0 || process.stderr.writableLength > 0) {
    // Let what the task printed reach the parent before the thread sleeps.
    const out = process.stdout.writableLength > 0 ? process.stdout : process.stderr
    out.write("", () => idle())
    return
  }
  idling = true
  try {
    while (!runner.active) {
      Atomics.wait(counter, 0, seen)
      seen = Atomics.load(counter, 0)
      drain()
    }
  } finally {
    idling = false
  }
}

runner.onIdle = idle
port.on("message", (m: ToWorker) => runner.receive(m))
seen = Atomics.load(counter, 0)
drain()
idle()
