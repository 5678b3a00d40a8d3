/**
 * What a worker runs: a named export of a module ({@link task}, the robust
 * default), or a self-contained function sent by its source.
 *
 * A function sent by its source is parsed once (acorn) and its free
 * variables found (periscopic); any name that is neither its own nor a
 * global of a fresh Node.js worker makes it refused with
 * {@link CapturedVariables}, naming the variables and how to fix it. The
 * verdict is cached per function, so submitting the same function again
 * costs a map lookup.
 *
 * @since 0.2.0
 */
import { parse } from "acorn"
import { analyze } from "periscopic"
import { createContext, runInContext } from "node:vm"
import { CapturedVariables, Unshippable } from "./Errors.ts"

const TaskTypeId: unique symbol = Symbol.for("rankflow/patterns/Task")

/**
 * A reference to a named export of a module, run by workers that import the
 * module themselves. `F` is the function's type, for the types of `submit`
 * and `map`.
 *
 * @category models
 * @since 0.2.0
 */
export interface Task<F extends (...args: any) => any = (...args: any) => any> {
  readonly [TaskTypeId]: true
  /** The module's URL (`import.meta.url` of the module that exports it). */
  readonly url: string
  /** The export's name (`"default"` for the default export). */
  readonly name: string
  /** Phantom: the function's type. */
  readonly _F?: F
}

/**
 * Names a module's export as a task: workers import `url` and call its
 * export `name`. The robust default: the function may use anything its
 * module imports or defines. The module is imported once per worker; guard
 * its own top-level work with `if (import.meta.main)` so workers importing
 * it do not run that too (Python's `if __name__ == "__main__"`).
 *
 * @example
 * ```ts
 * import { task, ThreadPoolExecutor } from "rankflow/patterns/executor"
 * export const square = (x: number) => x * x
 * if (import.meta.main) {
 *   await using ex = new ThreadPoolExecutor({ maxWorkers: 2 })
 *   console.log(await ex.submit(task<typeof square>(import.meta.url, "square"), 7)) // 49
 * }
 * ```
 * @category constructors
 * @since 0.2.0
 */
export const task = <F extends (...args: any) => any = (...args: any) => any>(
  url: string | URL,
  name = "default"
): Task<F> => ({ [TaskTypeId]: true, url: url instanceof URL ? url.href : url, name })

/**
 * Is `u` a {@link Task}?
 *
 * @category guards
 * @since 0.2.0
 */
export const isTask = (u: unknown): u is Task => typeof u === "object" && u !== null && TaskTypeId in u

/**
 * Anything a worker can run: a {@link Task} or a self-contained function.
 *
 * @category models
 * @since 0.2.0
 */
export type Runnable<F extends (...args: any) => any = (...args: any) => any> = Task<F> | F

/** The function type of a runnable. */
export type FnOf<R> = R extends Task<infer F> ? F : R extends (...args: any) => any ? R : never

/** What a runnable's call resolves to (an Effect resolves to its value). */
export type ResultOf<R> = FnOf<R> extends (...args: any) => infer B ? Unwrap<Awaited<B>> : never
type Unwrap<B> = B extends { readonly "~effect/Effect": { readonly _A: (_: never) => infer A } } ? A : B

/** The arguments of a runnable. */
export type ArgsOf<R> = FnOf<R> extends (...args: infer P) => any ? P : never

/**
 * How a function travels: its definition as the worker needs it.
 *
 * @category models
 * @since 0.2.0
 */
export type Definition =
  | { readonly kind: "ref"; readonly url: string; readonly name: string }
  | { readonly kind: "src"; readonly src: string }

// Globals of a fresh worker: the language's (a new vm context) and Node's.
const nodeGlobals = [
  "process", "Buffer", "console", "setTimeout", "clearTimeout", "setInterval", "clearInterval",
  "setImmediate", "clearImmediate", "queueMicrotask", "structuredClone", "fetch", "Request", "Response",
  "Headers", "FormData", "URL", "URLSearchParams", "TextEncoder", "TextDecoder", "AbortController",
  "AbortSignal", "Event", "EventTarget", "MessageChannel", "MessagePort", "MessageEvent",
  "BroadcastChannel", "Blob", "File", "performance", "crypto", "Crypto", "CryptoKey", "SubtleCrypto",
  "atob", "btoa", "navigator", "WebSocket", "ReadableStream", "WritableStream", "TransformStream",
  "CompressionStream", "DecompressionStream", "DOMException", "global", "globalThis", "require",
  "module", "exports", "__filename", "__dirname", "arguments", "undefined", "NaN", "Infinity"
]
const allowed = new Set<string>([
  ...Object.getOwnPropertyNames(runInContext("globalThis", createContext())),
  ...nodeGlobals
])

interface Verdict {
  readonly def?: Definition
  readonly error?: CapturedVariables | Unshippable
}

const verdicts = new WeakMap<Function, Verdict>()
const bySource = new Map<string, Verdict>()

const judge = (fn: Function): Verdict => {
  let src: string
  try {
    src = Function.prototype.toString.call(fn)
  } catch {
    return { error: new Unshippable({ reason: "its source is not available" }) }
  }
  const cached = bySource.get(src)
  if (cached !== undefined) return cached
  const verdict = judgeSource(src, fn)
  if (bySource.size > 4096) bySource.clear()
  bySource.set(src, verdict)
  return verdict
}

const judgeSource = (src: string, fn: Function): Verdict => {
  if (/\{\s*\[native code\]\s*\}\s*$/.test(src)) {
    return {
      error: new Unshippable({
        reason: `\`${fn.name || "anonymous"}\` is a native or bound function, whose source is not JavaScript`
      })
    }
  }
  if (/^class[\s{]/.test(src)) return { error: new Unshippable({ reason: "it is a class, not a function" }) }
  let ast: any
  try {
    ast = parse(`(${src}\n)`, { ecmaVersion: "latest", sourceType: "module" })
  } catch {
    return {
      error: new Unshippable({
        reason: `its source \`${src.length > 60 ? `${src.slice(0, 57)}...` : src}\` is not an expression on its own ` +
          `(a method written in shorthand, \`{ f(x) { ... } }.f\`, is one; write \`f: (x) => ...\` or \`f: function (x) { ... }\`)`
      })
    }
  }
  const expr = ast.body[0]?.expression
  const own = expr?.type === "ClassExpression" && expr.id ? expr.id.name : undefined
  const { globals } = analyze(ast)
  // Sorted, so the message is the same whatever order the parser found them in.
  const captured = [...globals.keys()].filter((n) => !allowed.has(n) && n !== own).sort()
  if (captured.length > 0) return { error: new CapturedVariables({ names: captured, source: src }) }
  return { def: { kind: "src", src } }
}

/**
 * How `r` travels to a worker, or throws {@link CapturedVariables} /
 * {@link Unshippable} explaining why it cannot.
 *
 * @example
 * ```ts
 * import { definitionOf } from "rankflow/patterns/pool"
 * definitionOf((x: number) => x * x) // { kind: "src", src: "(x) => x * x" }
 * ```
 * @category encoding
 * @since 0.2.0
 */
export const definitionOf = (r: Runnable): Definition => {
  if (isTask(r)) return { kind: "ref", url: r.url, name: r.name }
  if (typeof r !== "function") {
    throw new Unshippable({ reason: `it is ${r === null ? "null" : `a ${typeof r}`}, not a function or a task(url, name)` })
  }
  let v = verdicts.get(r)
  if (v === undefined) {
    v = judge(r)
    verdicts.set(r, v)
  }
  if (v.error !== undefined) throw v.error
  return v.def!
}

/**
 * A stable key for a definition (functions with the same source share it).
 *
 * @category encoding
 * @since 0.2.0
 */
export const keyOf = (d: Definition): string => (d.kind === "ref" ? `ref:${d.name}@${d.url}` : `src:${d.src}`)
