/**
 * The stream protocol's handshake: who the two ends are, and proof that both
 * know the world's secret.
 *
 * Each side first sends the preamble (magic, version; see `Framing.ts`).
 * Then, in frames:
 *
 * ```text
 * dialer   → acceptor  HELLO      its rank, the rank it wants, nonce, incarnation, world id
 * acceptor → dialer    CHALLENGE  its rank, nonce, incarnation
 * dialer   → acceptor  AUTH       proof, last sequence number it received on this link
 * acceptor → dialer    ACCEPT     proof, last sequence number it received on this link
 * ```
 *
 * A proof is HMAC-SHA256, keyed with the secret, over a role label, the
 * world id, both ranks, both nonces and both incarnations; each side checks
 * the other's with `timingSafeEqual`. Fresh nonces on both sides mean an
 * eavesdropper cannot replay a proof, and the role label means a side cannot
 * echo the other's. The acceptor answers only after the dialer has proven
 * itself, and tells its resumption point only then. An incarnation is a
 * random id per transport instance: a reconnect to a different process
 * claiming the same rank is refused.
 *
 * The secret comes from `RANKFLOW_SECRET` or the file named by
 * `RANKFLOW_SECRET_FILE`; it is never printed, logged or passed on a
 * command line.
 *
 * @since 0.1.0
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { readFileSync } from "node:fs"
import { Envelope } from "../../core/index.ts"
import { blankFrame, FRAME_OVERHEAD, LinkKind, writeFrame } from "./Framing.ts"
import { StreamError } from "./StreamError.ts"

/**
 * The environment variable that holds the world's secret.
 *
 * @category secret
 * @since 0.1.0
 */
export const SECRET_ENV = "RANKFLOW_SECRET"

/**
 * The environment variable that names a file holding the world's secret.
 *
 * @category secret
 * @since 0.1.0
 */
export const SECRET_FILE_ENV = "RANKFLOW_SECRET_FILE"

/**
 * Bytes of a nonce.
 *
 * @category constants
 * @since 0.1.0
 */
export const NONCE_BYTES = 32

/**
 * Bytes of an incarnation id.
 *
 * @category constants
 * @since 0.1.0
 */
export const INCARNATION_BYTES = 16

/**
 * Bytes of a proof (an HMAC-SHA256).
 *
 * @category constants
 * @since 0.1.0
 */
export const PROOF_BYTES = 32

/**
 * The longest world id, in UTF-8 bytes.
 *
 * @category constants
 * @since 0.1.0
 */
export const MAX_WORLD_BYTES = 256

/**
 * The largest handshake frame (header and body): the parser's limit until
 * the handshake is done, so an unauthenticated client can make a rank
 * allocate no more than this.
 *
 * @category constants
 * @since 0.1.0
 */
export const HANDSHAKE_MAX_FRAME = Envelope.HEADER_BYTES + NONCE_BYTES + INCARNATION_BYTES + MAX_WORLD_BYTES

/**
 * A new random secret (64 hex digits), for a launcher to give its ranks.
 *
 * @category secret
 * @since 0.1.0
 */
export const newSecret = (): string => randomBytes(32).toString("hex")

/**
 * Reads the world's secret from `RANKFLOW_SECRET`, or else from the file
 * named by `RANKFLOW_SECRET_FILE` (trailing whitespace trimmed). Throws
 * `ERR_NO_SECRET` when neither gives a non-empty secret; the message never
 * contains the secret.
 *
 * @example
 * ```ts
 * import { loadSecret } from "rankflow/transports/stream/Handshake"
 * const secret = loadSecret({ RANKFLOW_SECRET: "s3cret" })
 * secret.byteLength // 6
 * ```
 * @category secret
 * @since 0.1.0
 */
export const loadSecret = (env: Readonly<Record<string, string | undefined>> = process.env, rank = -1): Uint8Array => {
  const direct = env[SECRET_ENV]
  if (direct !== undefined && direct.length > 0) return new TextEncoder().encode(direct)
  const file = env[SECRET_FILE_ENV]
  if (file !== undefined && file.length > 0) {
    let text: string
    try {
      text = readFileSync(file, "utf8").trimEnd()
    } catch (e) {
      throw new StreamError({
        code: "ERR_NO_SECRET",
        rank,
        peer: -1,
        reason: `${SECRET_FILE_ENV} names a file that cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`
      })
    }
    if (text.length > 0) return new TextEncoder().encode(text)
    throw new StreamError({ code: "ERR_NO_SECRET", rank, peer: -1, reason: `the file named by ${SECRET_FILE_ENV} is empty` })
  }
  throw new StreamError({ code: "ERR_NO_SECRET", rank, peer: -1, reason: `no secret: set ${SECRET_ENV} or ${SECRET_FILE_ENV}` })
}

/**
 * Random bytes for a nonce or an incarnation.
 *
 * @category crypto
 * @since 0.1.0
 */
export const random = (n: number): Uint8Array => new Uint8Array(randomBytes(n))

/**
 * What both proofs cover.
 *
 * @category models
 * @since 0.1.0
 */
export interface Transcript {
  readonly world: Uint8Array
  readonly dialer: number
  readonly acceptor: number
  readonly dialerNonce: Uint8Array
  readonly acceptorNonce: Uint8Array
  readonly dialerIncarnation: Uint8Array
  readonly acceptorIncarnation: Uint8Array
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n >>> 0, true)
  return b
}

const VERSION_LABEL = "v1"

/**
 * The proof of `role` over `t`: HMAC-SHA256 keyed with the secret.
 *
 * @category crypto
 * @since 0.1.0
 */
export const proof = (secret: Uint8Array, role: "dialer" | "acceptor", t: Transcript): Uint8Array => {
  const h = createHmac("sha256", secret)
  h.update(`rankflow/${VERSION_LABEL}/${role}`)
  h.update(u32(t.world.byteLength))
  h.update(t.world)
  h.update(u32(t.dialer))
  h.update(u32(t.acceptor))
  h.update(t.dialerNonce)
  h.update(t.acceptorNonce)
  h.update(t.dialerIncarnation)
  h.update(t.acceptorIncarnation)
  return new Uint8Array(h.digest())
}

/**
 * Does `got` equal `expected`? In constant time for equal lengths.
 *
 * @category crypto
 * @since 0.1.0
 */
export const verify = (expected: Uint8Array, got: Uint8Array): boolean =>
  got.byteLength === expected.byteLength && timingSafeEqual(expected, got)

/**
 * Encodes a handshake or control frame of `kind` with the given header
 * fields and body.
 *
 * @category encoding
 * @since 0.1.0
 */
export const control = (
  kind: number,
  fields: { readonly src?: number; readonly ref?: number; readonly seq?: number; readonly tag?: number },
  ...body: ReadonlyArray<Uint8Array>
): Uint8Array => {
  const f = blankFrame()
  f.kind = kind
  f.src = fields.src ?? 0
  f.ref = fields.ref ?? 0
  f.seq = fields.seq ?? 0
  f.tag = fields.tag ?? 0
  let n = 0
  for (const b of body) n += b.byteLength
  f.size = n
  const out = new Uint8Array(FRAME_OVERHEAD + n)
  let at = writeFrame(out, 0, f, n, undefined)
  for (const b of body) {
    out.set(b, at)
    at += b.byteLength
  }
  return out
}

/**
 * The HELLO frame.
 *
 * @category encoding
 * @since 0.1.0
 */
export const hello = (dialer: number, acceptor: number, nonce: Uint8Array, incarnation: Uint8Array, world: Uint8Array): Uint8Array =>
  control(LinkKind.HELLO, { src: dialer, ref: acceptor }, nonce, incarnation, world)

/**
 * The CHALLENGE frame.
 *
 * @category encoding
 * @since 0.1.0
 */
export const challenge = (acceptor: number, nonce: Uint8Array, incarnation: Uint8Array): Uint8Array =>
  control(LinkKind.CHALLENGE, { src: acceptor }, nonce, incarnation)

/**
 * The AUTH (dialer) or ACCEPT (acceptor) frame: a proof and the last
 * sequence number received on the link.
 *
 * @category encoding
 * @since 0.1.0
 */
export const answer = (kind: typeof LinkKind.AUTH | typeof LinkKind.ACCEPT, rank: number, lastReceived: number, p: Uint8Array): Uint8Array =>
  control(kind, { src: rank, seq: lastReceived }, p)

/**
 * The REFUSE frame, carrying a code's number.
 *
 * @category encoding
 * @since 0.1.0
 */
export const refuse = (rank: number, code: number): Uint8Array => control(LinkKind.REFUSE, { src: rank, tag: code })

/**
 * Splits a HELLO body; undefined when it is malformed.
 *
 * @category decoding
 * @since 0.1.0
 */
export const readHello = (body: Uint8Array): { nonce: Uint8Array; incarnation: Uint8Array; world: Uint8Array } | undefined => {
  if (body.byteLength < NONCE_BYTES + INCARNATION_BYTES || body.byteLength > NONCE_BYTES + INCARNATION_BYTES + MAX_WORLD_BYTES) return undefined
  return {
    nonce: body.slice(0, NONCE_BYTES),
    incarnation: body.slice(NONCE_BYTES, NONCE_BYTES + INCARNATION_BYTES),
    world: body.slice(NONCE_BYTES + INCARNATION_BYTES)
  }
}

/**
 * Splits a CHALLENGE body; undefined when it is malformed.
 *
 * @category decoding
 * @since 0.1.0
 */
export const readChallenge = (body: Uint8Array): { nonce: Uint8Array; incarnation: Uint8Array } | undefined =>
  body.byteLength !== NONCE_BYTES + INCARNATION_BYTES
    ? undefined
    : { nonce: body.slice(0, NONCE_BYTES), incarnation: body.slice(NONCE_BYTES) }
