/**
 * The seed talk's multiprocessing example:
 *
 *     from multiprocessing import Pool
 *
 *     def f(x):
 *         return x * x
 *
 *     if __name__ == '__main__':
 *         with Pool(5) as p:
 *             print(p.map(f, [1, 2, 3]))
 *
 * Five child processes of this project's Node; `f` travels by its source
 * (it uses nothing from outside itself). `import.meta.main` is Python's
 * `__name__ == '__main__'`: a worker that imports this module (as it would
 * for `task(import.meta.url, "f")`) does not start a pool of its own.
 *
 * Run: node_modules/.bin/node examples/10-pool-map.ts
 */
import { Pool } from "rankflow/patterns/process"

export function f(x: number): number {
  return x * x
}

if (import.meta.main) {
  await using p = new Pool(5)
  console.log(await p.map(f, [1, 2, 3]))
}
