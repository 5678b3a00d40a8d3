/**
 * The seed talk's concurrent.futures example (Python's documentation's
 * ThreadPoolExecutor example), fetching pages and printing each one's size
 * as it completes:
 *
 *     import concurrent.futures
 *     import urllib.request
 *
 *     def load_url(url, timeout):
 *         with urllib.request.urlopen(url, timeout=timeout) as conn:
 *             return conn.read()
 *
 *     with concurrent.futures.ThreadPoolExecutor(max_workers=5) as executor:
 *         future_to_url = {executor.submit(load_url, url, 60): url for url in URLS}
 *         for future in concurrent.futures.as_completed(future_to_url):
 *             url = future_to_url[future]
 *             try:
 *                 data = future.result()
 *             except Exception as exc:
 *                 print('%r generated an exception: %s' % (url, exc))
 *             else:
 *                 print('%r page is %d bytes' % (url, len(data)))
 *
 * With no internet at hand, the example serves its own pages on 127.0.0.1
 * (a free port), each after its own delay, and one that does not exist.
 * `loadUrl` runs in the executor's worker threads, which import this module
 * to find it (`task(import.meta.url, "loadUrl")`); `import.meta.main` keeps
 * them from starting a server of their own.
 *
 * Run: node_modules/.bin/node examples/11-executor-as-completed.ts
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { asCompleted, type Completed, task, ThreadPoolExecutor } from "rankflow/patterns/executor"

/** Fetches `url` (at most `timeout` seconds); its body's bytes. */
export async function loadUrl(url: string, timeout: number): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeout * 1000) })
  if (!res.ok) throw new Error(`HTTP Error ${res.status}: ${res.statusText}`)
  return new Uint8Array(await res.arrayBuffer())
}

/** The pages served: path → [delay in ms, size in bytes]. */
export const PAGES: Record<string, readonly [number, number]> = {
  "/slow.html": [300, 120_000],
  "/index.html": [0, 2_000],
  "/medium.html": [100, 35_000],
  "/news.html": [50, 8_192]
}

const page = (path: string, size: number): string => {
  const head = `<!doctype html><title>${path}</title><p>`
  return head + "x".repeat(size - head.length)
}

if (import.meta.main) {
  const server = createServer((req, res) => {
    const known = PAGES[req.url ?? ""]
    if (known === undefined) {
      res.writeHead(404, "Not Found").end()
      return
    }
    const [delay, size] = known
    setTimeout(() => res.writeHead(200, { "content-type": "text/html" }).end(page(req.url!, size)), delay)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as AddressInfo
  const URLS = [...Object.keys(PAGES), "/missing.html"].map((path) => `http://127.0.0.1:${port}${path}`)

  try {
    await using executor = new ThreadPoolExecutor({ maxWorkers: 5 })
    const load = task<typeof loadUrl>(import.meta.url, "loadUrl")
    const futureToUrl = new Map<Completed<Uint8Array>, string>(URLS.map((url) => [executor.submit(load, url, 60), url]))
    for await (const future of asCompleted(futureToUrl.keys())) {
      const url = futureToUrl.get(future)!
      try {
        const data = await future.result()
        console.log(`'${url}' page is ${data.byteLength} bytes`)
      } catch (exc) {
        console.log(`'${url}' generated an exception: ${exc instanceof Error ? exc.message : String(exc)}`)
      }
    }
  } finally {
    server.close()
  }
}
