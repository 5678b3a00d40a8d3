/**
 * The two faces cannot drift: both are installed from one op table
 * (core/internal/Ops.ts). At run time their members are the table's, each
 * of the kind the table says (a getter for the properties, a method for the
 * rest); at compile time their keys are equal, so a member added to one
 * face only fails `tsc`.
 */
import test from "ava"
import { Effect } from "effect"
import { Comm as EffectComm, Request as ERequest } from "../../index.ts"
import { OP_NAMES, OPS } from "../../core/internal/Ops.ts"
import { Comm, Prequest, Request, runWorld } from "../../promise.ts"

// ------------------------------------------------------- compile time

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
type Assert<T extends true> = T

/** Both faces have exactly the same members (the table's, plus `core`). */
export type SameKeys = Assert<Equal<keyof EffectComm.Communicator, keyof Comm>>
/** The table has an entry for every member but `core`, and no other. */
export type TableKeys = Assert<Equal<keyof typeof OPS | "core", keyof Comm>>
/** The persistent and plain requests of both faces have the same members too. */
export type SameRequestKeys = Assert<Equal<keyof ERequest.Request, keyof Request>>
export type SamePrequestKeys = Assert<Equal<keyof ERequest.Prequest, keyof Prequest>>

// ------------------------------------------------------------ run time

const members = (proto: object): Array<string> => Object.getOwnPropertyNames(proto).filter((n) => n !== "constructor").sort()

test("both faces' prototypes hold exactly the op table's members", (t) => {
  const table = [...OP_NAMES].sort()
  t.deepEqual(members(EffectComm.Communicator.prototype), table)
  t.deepEqual(members(Comm.prototype), table)
  t.true(table.length >= 60, `only ${table.length} operations`)
})

test("each member is a getter or a method as its kind says, on both faces", (t) => {
  for (const proto of [EffectComm.Communicator.prototype, Comm.prototype]) {
    for (const name of OP_NAMES) {
      const d = Object.getOwnPropertyDescriptor(proto, name)!
      const property = OPS[name].kind === "property" || OPS[name].kind === "commProperty"
      t.is(typeof d.get, property ? "function" : "undefined", `${name}: getter`)
      t.is(typeof d.value, property ? "undefined" : "function", `${name}: method`)
    }
  }
})

test("the operations that were effectful getters of the Effect face are methods on both faces", (t) => {
  for (const name of ["barrier", "ibarrier", "dup", "free"] as const) {
    t.not(OPS[name].kind, "property")
    t.is(typeof Object.getOwnPropertyDescriptor(EffectComm.Communicator.prototype, name)!.value, "function")
  }
  const own = (proto: object, name: string): unknown => Object.getOwnPropertyDescriptor(proto, name)?.value
  t.is(typeof own(ERequest.Request.prototype, "cancel"), "function", "Request.cancel")
  t.is(typeof own(ERequest.Prequest.prototype, "start"), "function", "Prequest.start")
  t.is(typeof own(ERequest.Prequest.prototype, "free"), "function", "Prequest.free")
})

test("the Effect face's non-blocking buffer collectives (new with the table) run", async (t) => {
  const program = Effect.gen(function*() {
    const comm = yield* EffectComm.Comm
    const p = comm.size
    const r = comm.rank
    const scattered = new Int32Array(1)
    const s = yield* comm.Iscatter(r === 0 ? Int32Array.from({ length: p }, (_, i) => 10 * i) : undefined, scattered, 0)
    const gathered = r === 0 ? new Int32Array(p) : undefined
    const g = yield* comm.Igather(Int32Array.of(r), gathered, 0)
    const all = new Int32Array(p)
    const a = yield* comm.Iallgather(Int32Array.of(r + 1), all)
    const swapped = new Int32Array(p)
    const x = yield* comm.Ialltoall(Int32Array.from({ length: p }, (_, i) => 100 * r + i), swapped)
    const reduced = r === 0 ? new Float64Array(2) : undefined
    const d = yield* comm.Ireduce(Float64Array.of(r, 1), reduced, undefined, 0)
    yield* ERequest.waitAll([s, g, a, x, d])
    yield* comm.barrier()
    const dup = yield* comm.dup()
    const size = dup.size
    yield* dup.free()
    return { scattered: [...scattered], gathered: gathered && [...gathered], all: [...all], swapped: [...swapped], reduced: reduced && [...reduced], size }
  })
  const out = await runWorld({ size: 3, transport: "inproc" }, program)
  out.forEach((o: any, r) => {
    t.deepEqual(o.scattered, [10 * r])
    t.deepEqual(o.gathered, r === 0 ? [0, 1, 2] : undefined)
    t.deepEqual(o.all, [1, 2, 3])
    t.deepEqual(o.swapped, [r, 100 + r, 200 + r])
    t.deepEqual(o.reduced, r === 0 ? [3, 3] : undefined)
    t.is(o.size, 3)
  })
})
