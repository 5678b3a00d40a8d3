/**
 * A pool's worker process: a {@link Runner} fed by frames on file
 * descriptor 3, a pipe to the parent.
 *
 * @since 0.2.0
 */
import { Socket } from "node:net"
import { Deframer, frame } from "./Frames.ts"
import { bindRunner } from "./Channel.ts"
import { Runner, type ToWorker } from "./Runner.ts"

const pipe = new Socket({ fd: 3, readable: true, writable: true })
const runner = new Runner({
  transfer: false,
  post: (m) => void pipe.write(frame(m)),
  memory: () => process.memoryUsage.rss(),
  exit: (code) => {
    pipe.end(() => process.exit(code))
  }
})
bindRunner(runner)
const deframer = new Deframer((m) => runner.receive(m as ToWorker), {
  onError: (e) => {
    process.stderr.write(`rankflow pool worker ${process.pid}: ${e.message}; exiting\n`)
    process.exit(70)
  }
})
pipe.on("data", (chunk: Buffer) => deframer.push(chunk))
// The parent is gone: nothing more to do.
pipe.on("end", () => process.exit(0))
pipe.on("error", () => process.exit(0))
