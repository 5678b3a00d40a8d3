/**
 * The transport registry: name → launcher. The one place that knows every
 * transport; only `patterns/run` and tests import it.
 *
 * Each transport's module is imported only when a world asks for it by
 * name, so a program that imports `rankflow` or `rankflow/promise` and runs
 * in-process or worker-thread worlds never loads the child-process
 * transports, nor `ws`.
 *
 * @since 0.1.0
 */
import type { World } from "../core/index.ts"

// One line per transport: its name and the module that exports its `launcher`.
const modules: Readonly<Record<string, () => Promise<{ readonly launcher: World.Launcher }>>> = {
  inproc: () => import("./inproc/Inproc.ts"),
  worker: () => import("./worker/Worker.ts"),
  process: () => import("./process/Process.ts"),
  tcp: () => import("./tcp/Launcher.ts"),
  websocket: () => import("./websocket/Websocket.ts")
}

/**
 * Transport names, for help texts and checks.
 *
 * @category registry
 * @since 0.1.0
 */
export const names: ReadonlyArray<string> = Object.keys(modules)

/**
 * The launcher of the transport called `name`, importing its module on
 * first use; `undefined` for a name no transport has.
 *
 * @example
 * ```ts
 * import { launcher } from "../transports/index.ts"
 * const worker = await launcher("worker") // the worker-thread transport's launcher
 * ```
 *
 * @category registry
 * @since 0.3.0
 */
export const launcher = async (name: string): Promise<World.Launcher | undefined> =>
  Object.hasOwn(modules, name) ? (await modules[name]!()).launcher : undefined
