/**
 * The `rankflow` package entry (Effect face): core, plus `runWorld` over the
 * transports this package ships.
 *
 * @since 0.1.0
 */
export * from "./core/index.ts"
export { runWorldEffect as runWorld, type WorldOptions } from "./patterns/run/index.ts"
