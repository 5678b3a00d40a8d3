/**
 * The `rankflow/promise` package entry (Promise face): core's Promise face,
 * plus `runWorld` over the transports this package ships.
 *
 * @since 0.1.0
 */
export * from "./core/promise/index.ts"
export { runWorld, type WorldOptions } from "./patterns/run/index.ts"
