/**
 * The transport registry: name → launcher. The one place that knows every
 * transport; only `patterns/run` and tests import it.
 *
 * @since 0.1.0
 */
import type { World } from "../core/index.ts"
import { launcher as inproc } from "./inproc/Inproc.ts"
import { launcher as process } from "./process/Process.ts"
import { launcher as tcp } from "./tcp/Launcher.ts"
import { launcher as websocket } from "./websocket/Websocket.ts"
import { launcher as worker } from "./worker/Worker.ts"

/**
 * Launchers by transport name.
 *
 * @category registry
 * @since 0.1.0
 */
export const launchers: Readonly<Record<string, World.Launcher>> = { inproc, worker, process, tcp, websocket }

/**
 * Transport names, for help texts.
 *
 * @category registry
 * @since 0.1.0
 */
export const names: ReadonlyArray<string> = Object.keys(launchers)
