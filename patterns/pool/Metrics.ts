/**
 * Pool metrics: counts of tasks by state and a histogram of their run
 * times.
 *
 * @since 0.2.0
 */

/**
 * A summary of a histogram, in milliseconds.
 *
 * @category models
 * @since 0.2.0
 */
export interface HistogramSummary {
  readonly count: number
  readonly min: number
  readonly max: number
  readonly mean: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
}

// Buckets: 8 per power of two from 2^-20 ms (~1 ns) to 2^20 ms (~17 min).
const PER_OCTAVE = 8
const LOW = -20
const BUCKETS = (20 - LOW) * PER_OCTAVE + 1

const bucketOf = (v: number): number => {
  if (!(v > 0)) return 0
  const b = Math.floor((Math.log2(v) - LOW) * PER_OCTAVE)
  return b < 0 ? 0 : b >= BUCKETS ? BUCKETS - 1 : b
}
const upperOf = (b: number): number => 2 ** (LOW + (b + 1) / PER_OCTAVE)

/**
 * A log-scaled histogram (8 buckets per doubling: values within 9%),
 * recording values with a weight (a batch of n calls records its mean time
 * n times at once).
 *
 * @example
 * ```ts
 * import { Histogram } from "rankflow/patterns/pool"
 * const h = new Histogram()
 * h.record(1.5)
 * h.record(0.2, 10)
 * h.summary().count // 11
 * ```
 * @category models
 * @since 0.2.0
 */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS)
  private n = 0
  private sum = 0
  private lo = Infinity
  private hi = -Infinity

  /** Records `value` (ms) `weight` times. */
  record(value: number, weight = 1): void {
    if (weight <= 0) return
    this.counts[bucketOf(value)]! += weight
    this.n += weight
    this.sum += value * weight
    if (value < this.lo) this.lo = value
    if (value > this.hi) this.hi = value
  }

  /** The value below which `q` (0..1) of the records fall (a bucket's upper edge). */
  quantile(q: number): number {
    if (this.n === 0) return 0
    const want = q * this.n
    let acc = 0
    for (let b = 0; b < BUCKETS; b++) {
      acc += this.counts[b]!
      if (acc >= want) return Math.min(Math.max(upperOf(b), this.lo), this.hi)
    }
    return this.hi
  }

  /** Count, min, max, mean and quantiles. */
  summary(): HistogramSummary {
    return {
      count: this.n,
      min: this.n === 0 ? 0 : this.lo,
      max: this.n === 0 ? 0 : this.hi,
      mean: this.n === 0 ? 0 : this.sum / this.n,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99)
    }
  }
}

/**
 * A pool's state, as `executor.metrics()` and `pool.metrics()` give it.
 *
 * @category models
 * @since 0.2.0
 */
export interface PoolMetrics {
  /** Calls waiting in the queue. */
  readonly queued: number
  /** Calls handed to workers and not finished. */
  readonly running: number
  /** Calls that finished with a result. */
  readonly completed: number
  /** Calls that finished with an error (their own, a timeout, a lost worker). */
  readonly failed: number
  /** Calls cancelled or aborted. */
  readonly cancelled: number
  /** Live workers. */
  readonly workers: number
  /** Workers started so far, replacements included. */
  readonly started: number
  /** Batches sent to workers (a batch carries one or more calls). */
  readonly batches: number
  /** Run time of a call in its worker, in ms. */
  readonly runTime: HistogramSummary
}
