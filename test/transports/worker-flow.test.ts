/**
 * The worker transport's flow control under stress: rings far smaller than
 * the messages, with spinning and without it (every wait then sleeps), so a
 * lost wake-up would hang the world (and fail on the time limit).
 */
import test from "ava"
import { runWorld } from "../../promise.ts"

const program = new URL("./stress.ts", import.meta.url)

for (const [capacity, spinMicros] of [[65536, 0], [65536, 250], [262144, 0], [262144, 20], [1 << 20, 40]] as const) {
  for (const size of [2, 3]) {
    test.serial(`large messages through ${capacity >> 10} KiB rings, spin ${spinMicros} µs, ${size} ranks`, async (t) => {
      const rounds = 12
      const results = await runWorld(
        { size, transport: "worker", argv: [String(rounds)], transportOptions: { capacity }, engine: { spinMicros }, timeout: 60_000 },
        program
      )
      t.deepEqual(results, new Array(size).fill(rounds * 2 + 1))
    })
  }
}
