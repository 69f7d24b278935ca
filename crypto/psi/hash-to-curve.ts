/**
 * Hashing ids onto Curve25519 for PSI v2: RFC 9380 `curve25519_XMD:SHA-512_ELL2_RO_` (§6.7.1
 * Elligator 2, straight-line Appendix G.2.1; expand_message_xmd §5.3.1 with SHA-512; hash_to_field
 * §5.2 with L = 48, count = 2), with the domain separation tag `cohort/psi/v2`, and WITHOUT the final
 * clear_cofactor: we output the u-coordinate of R = Q0 + Q1 and let the blinding scalar clear the
 * cofactor. X25519 clamps every scalar to c = 8·m (RFC 7748 §5), so the first blinding computes
 * [c]R = [m]([8]R) = [m]·hash_to_curve(msg): exactly a blinding of the RFC's output point, which lies
 * in the prime-order subgroup. Unlike v1 (crypto/psi/blind.ts, a raw hashed u-coordinate), every
 * hashed point is on the curve E and never on its twist, so blinded values carry no curve/twist bit
 * (see README.md, "v2").
 *
 *   msg     = salt (32 bytes) || utf8(id)           (fixed-length salt: the split is unambiguous)
 *   u0, u1  = hash_to_field(msg, 2)                 DST = "cohort/psi/v2"
 *   Q0, Q1  = map_to_curve_elligator2_curve25519(u0), (u1)   (Montgomery form, B = 1, A = 486662)
 *   out     = x(Q0 + Q1) as 32 bytes little-endian  (RFC 7748 u-coordinate encoding)
 *
 * Cost: two inversion-free square-root exponentiations per id plus a share of one batched inversion
 * (Montgomery's trick over the batch). Field arithmetic is WebAssembly (./_fe25519-wasm.ts, ref10
 * limbs, elements are addresses in the module's memory); expand_message_xmd's SHA-512 is node:crypto
 * (a wasm SHA-512 saved ~3 µs per id, ~15 s of a 1M × 1M run, but would be our own hash code where
 * OpenSSL's does the job). The JS Float64 field of ./_fe25519.ts is the
 * tests' cross-check. ~22–27 µs per id on one core here (was ~57–75 µs with the JS field); measured in
 * `npm run bench -- psi` (psi.h2c_us_per_id).
 */
import { hash } from 'node:crypto'
import { aBytes, aString } from '../asserts.ts'
import { CryptoArgumentError, LowOrderPointError } from '../errors.ts'
import type { DomainLabel } from '../kdf.ts'
import type { FeAddr } from './_fe25519-wasm.ts'
import { createWasmField } from './_fe25519-wasm.ts'
import { PSI_POINT_BYTES, PSI_SALT_BYTES } from './blind.ts'

/**
 * Domain separation tag of PSI v2 hashing (RFC 9380 §3.1 DST).
 * @example
 * hashIdToCurve('u00042', salt) // hashed under PSI_V2_LABEL
 */
export const PSI_V2_LABEL: DomainLabel = 'cohort/psi/v2'

const P = (1n << 255n) - 19n
const J = 486662
// RFC 9380 G.2.1 constants for curve25519: c2 = 2^((p+3)/8), c3 = sqrt(-1) = 2^((p-1)/4).
function powBig(b: bigint, e: bigint): bigint {
  let r = 1n
  let x = b % P
  while (e > 0n) {
    if (e & 1n) r = (r * x) % P
    x = (x * x) % P
    e >>= 1n
  }
  return r
}
const F = createWasmField()
const constant = (x: bigint): FeAddr => {
  const a = F.alloc()
  F.setBig(a, x)
  return a
}
const C2 = constant(powBig(2n, (P + 3n) / 8n))
const C3 = constant(powBig(2n, (P - 1n) / 4n))
const ONE = constant(1n)
const MINUS_J = constant(P - BigInt(J))

const LEN_IN_BYTES = 96 // count 2 · L 48
const Z_PAD = new Uint8Array(128) // s_in_bytes of SHA-512

function dstPrime(dst: string): Uint8Array {
  const d = new TextEncoder().encode(dst)
  if (d.length === 0 || d.length > 255) throw new CryptoArgumentError('DST must be 1..255 bytes')
  const out = new Uint8Array(d.length + 1)
  out.set(d)
  out[d.length] = d.length
  return out
}
const DST_V2 = dstPrime(PSI_V2_LABEL)

/**
 * Where expand_message_xmd's inputs are assembled, so that each of its three SHA-512 calls is one
 * one-shot `hash()` (no Hash object, no per-part update): msg' = Z_PAD (the first 128 bytes, always
 * zero) || msg || I2OSP(96, 2) || I2OSP(0, 1) || DST'. Grown on demand (long ids).
 */
let msgScratch = Buffer.alloc(1024)
const MSG_AT = Z_PAD.length
/** b_0 XOR b_(i-1) (or b_0) || I2OSP(i, 1) || DST'. */
const blockScratch = Buffer.alloc(64 + 1 + 256)

function msgRoom(msgBytes: number): Buffer {
  const need = MSG_AT + msgBytes + 3 + 256
  if (msgScratch.length < need) msgScratch = Buffer.alloc(2 * need)
  return msgScratch
}

/**
 * expand_message_xmd (RFC 9380 §5.3.1) with SHA-512 for len_in_bytes = 96 (ell = 2), writing
 * b_1 || b_2[0..32) into `out`. msg is msgScratch[MSG_AT, msgEnd) (see {@link msgRoom}).
 */
function expandXmd96(msgEnd: number, dst: Uint8Array, out: Uint8Array): void {
  const m = msgScratch
  let at = msgEnd
  m[at++] = 0
  m[at++] = LEN_IN_BYTES
  m[at++] = 0
  m.set(dst, at)
  at += dst.length
  const b0 = hash('sha512', m.subarray(0, at), 'buffer')
  const blk = blockScratch
  const n = 65 + dst.length
  blk.set(b0, 0)
  blk[64] = 1
  blk.set(dst, 65)
  const b1 = hash('sha512', blk.subarray(0, n), 'buffer')
  for (let i = 0; i < 64; i++) blk[i] = b0[i]! ^ b1[i]!
  blk[64] = 2
  const b2 = hash('sha512', blk.subarray(0, n), 'buffer')
  out.set(b1, 0)
  out.set(b2.subarray(0, LEN_IN_BYTES - 64), 64)
}

// Scratch of the map (module-level: the map is synchronous and never re-entered).
const tv1 = F.alloc()
const tv2 = F.alloc()
const tv3 = F.alloc()
const xd = F.alloc()
const gxd = F.alloc()
const gx1 = F.alloc()
const gx2 = F.alloc()
const y11 = F.alloc()
const y12 = F.alloc()
const y1 = F.alloc()
const y21 = F.alloc()
const y22 = F.alloc()
const y2 = F.alloc()
const x2n = F.alloc()
const negY = F.alloc()

/**
 * map_to_curve_elligator2_curve25519 (RFC 9380 Appendix G.2.1, step for step): writes the
 * Montgomery point (xn / xd, y) for field element u. xd is never 0 (1 + 2u² ≠ 0 as -1/2 is not a
 * square mod p).
 */
function mapElligator2(u: FeAddr, outXn: FeAddr, outXd: FeAddr, outY: FeAddr): void {
  F.sqr(tv1, u) //  1. tv1 = u^2
  F.add(tv1, tv1, tv1) //  2. tv1 = 2 * tv1
  F.add(xd, tv1, ONE) //  3. xd = tv1 + 1
  //  4. x1n = -J (constant MINUS_J)
  F.sqr(tv2, xd) //  5. tv2 = xd^2
  F.mul(gxd, tv2, xd) //  6. gxd = tv2 * xd
  F.mulSmall(gx1, tv1, J) //  7. gx1 = J * tv1
  F.mul(gx1, gx1, MINUS_J) //  8. gx1 = gx1 * x1n
  F.add(gx1, gx1, tv2) //  9. gx1 = gx1 + tv2
  F.mul(gx1, gx1, MINUS_J) // 10. gx1 = gx1 * x1n
  F.sqr(tv3, gxd) // 11. tv3 = gxd^2
  F.sqr(tv2, tv3) // 12. tv2 = tv3^2
  F.mul(tv3, tv3, gxd) // 13. tv3 = tv3 * gxd
  F.mul(tv3, tv3, gx1) // 14. tv3 = tv3 * gx1
  F.mul(tv2, tv2, tv3) // 15. tv2 = tv2 * tv3
  F.pow2523(y11, tv2) // 16. y11 = tv2^c4, c4 = (p - 5) / 8
  F.mul(y11, y11, tv3) // 17. y11 = y11 * tv3
  F.mul(y12, y11, C3) // 18. y12 = y11 * c3
  F.sqr(tv2, y11) // 19. tv2 = y11^2
  F.mul(tv2, tv2, gxd) // 20. tv2 = tv2 * gxd
  const e1 = F.eq(tv2, gx1) // 21. e1 = tv2 == gx1
  F.copy(y1, y12) // 22. y1 = CMOV(y12, y11, e1)
  F.cmov(y1, y11, e1)
  F.mul(x2n, MINUS_J, tv1) // 23. x2n = x1n * tv1
  F.mul(y21, y11, u) // 24. y21 = y11 * u
  F.mul(y21, y21, C2) // 25. y21 = y21 * c2
  F.mul(y22, y21, C3) // 26. y22 = y21 * c3
  F.mul(gx2, gx1, tv1) // 27. gx2 = gx1 * tv1
  F.sqr(tv2, y21) // 28. tv2 = y21^2
  F.mul(tv2, tv2, gxd) // 29. tv2 = tv2 * gxd
  const e2 = F.eq(tv2, gx2) // 30. e2 = tv2 == gx2
  F.copy(y2, y22) // 31. y2 = CMOV(y22, y21, e2)
  F.cmov(y2, y21, e2)
  F.sqr(tv2, y1) // 32. tv2 = y1^2
  F.mul(tv2, tv2, gxd) // 33. tv2 = tv2 * gxd
  const e3 = F.eq(tv2, gx1) // 34. e3 = tv2 == gx1
  F.copy(outXn, x2n) // 35. xn = CMOV(x2n, x1n, e3)
  F.cmov(outXn, MINUS_J, e3)
  F.copy(outY, y2) // 36. y = CMOV(y2, y1, e3)
  F.cmov(outY, y1, e3)
  const e4 = F.sgn0(outY) // 37. e4 = sgn0(y) == 1
  F.neg(negY, outY) // 38. y = CMOV(y, -y, e3 XOR e4)
  F.cmov(outY, negY, e3 ^ e4)
  F.copy(outXd, xd) // 39. return (xn, xd, y, 1)
}

const u0 = F.alloc()
const u1 = F.alloc()
const xn1 = F.alloc()
const xd1 = F.alloc()
const yq1 = F.alloc()
const xn2 = F.alloc()
const xd2 = F.alloc()
const yq2 = F.alloc()
const a1 = F.alloc()
const a2 = F.alloc()
const dd = F.alloc()
const nn = F.alloc()
const dd2 = F.alloc()
const s = F.alloc()
/** expand_message_xmd's 96 bytes, written straight into the field's memory for fromBE48. */
const UNIFORM = F.region(LEN_IN_BYTES)
const uniform = F.bytes.subarray(UNIFORM, UNIFORM + LEN_IN_BYTES)

const BATCH = 256
/** Per id of a batch: numerator and denominator of x(Q0 + Q1); prefix products for the inversion. */
const NUM = Array.from({ length: BATCH }, () => F.alloc())
const DEN = Array.from({ length: BATCH }, () => F.alloc())
const PREFIX = Array.from({ length: BATCH + 1 }, () => F.alloc())
const OUT = F.region(BATCH * PSI_POINT_BYTES)
const inv = F.alloc()
const tmp = F.alloc()

/**
 * x(Q0 + Q1) as a fraction NUM[i] / DEN[i] on the Montgomery curve v² = u³ + Au² + u, from
 * Q_i = (xn_i / xd_i, y_i): with D = xn2·xd1 - xn1·xd2 and N = (y2 - y1)·xd1·xd2 (so λ = N / D),
 *   x3 = λ² - A - x1 - x2 = (N²·xd1·xd2 - D²·(A·xd1·xd2 + xn1·xd2 + xn2·xd1)) / (D²·xd1·xd2).
 * D = 0 means x(Q0) = x(Q1) (probability ~2^-253): refused rather than special-cased.
 */
function hashPending(msgEnd: number, dst: Uint8Array, i: number): void {
  expandXmd96(msgEnd, dst, uniform)
  F.fromBE48(u0, UNIFORM)
  F.fromBE48(u1, UNIFORM + 48)
  mapElligator2(u0, xn1, xd1, yq1)
  mapElligator2(u1, xn2, xd2, yq2)
  F.mul(a1, xn1, xd2) // xn1·xd2
  F.mul(a2, xn2, xd1) // xn2·xd1
  F.sub(dd, a2, a1) // D
  if (F.isZero(dd) === 1) {
    throw new LowOrderPointError('hash-to-curve hit x(Q0) = x(Q1) (probability ~2^-253); refusing this id')
  }
  F.mul(s, xd1, xd2) // xd1·xd2
  F.sub(nn, yq2, yq1)
  F.mul(nn, nn, s) // N
  F.sqr(dd2, dd) // D²
  F.mul(DEN[i]!, dd2, s) // D²·xd1·xd2
  F.sqr(nn, nn) // N²
  F.mul(NUM[i]!, nn, s) // N²·xd1·xd2
  F.mulSmall(s, s, J) // A·xd1·xd2
  F.add(s, s, a1)
  F.add(s, s, a2)
  F.mul(s, s, dd2)
  F.sub(NUM[i]!, NUM[i]!, s)
}

function aSalt(salt: unknown): asserts salt is Uint8Array {
  aBytes(salt, PSI_SALT_BYTES, 'salt')
}

/**
 * Completes a batch: Montgomery's trick inverts all denominators with one inversion
 * (PREFIX[i] = DEN[0]·…·DEN[i-1]), then out_i = NUM[i] / DEN[i] as canonical u-coordinates.
 */
function finishBatch(count: number, out: Uint8Array, at: number): void {
  F.copy(PREFIX[0]!, ONE)
  for (let i = 0; i < count; i++) F.mul(PREFIX[i + 1]!, PREFIX[i]!, DEN[i]!)
  F.inv(inv, PREFIX[count]!) // 1 / (DEN[0]·…·DEN[count-1])
  for (let i = count - 1; i >= 0; i--) {
    F.mul(tmp, inv, PREFIX[i]!) // 1 / DEN[i]
    F.mul(inv, inv, DEN[i]!) // 1 / (DEN[0]·…·DEN[i-1])
    F.mul(tmp, tmp, NUM[i]!)
    F.toBytes(OUT + i * PSI_POINT_BYTES, tmp)
  }
  out.set(F.bytes.subarray(OUT, OUT + count * PSI_POINT_BYTES), at)
}

/**
 * Hashes ids onto Curve25519 (RFC 9380 curve25519_XMD:SHA-512_ELL2_RO_ without the cofactor
 * multiplication; see the file comment) and returns their u-coordinates packed: point i at
 * [32i, 32i + 32). Each id's bytes are used as given: callers normalise ids first.
 *
 * @param ids - the ids (non-empty strings are not required: the empty string hashes like any other)
 * @param salt - 32 bytes agreed for this PSI run
 * @throws CryptoArgumentError for a bad salt or a non-string id
 * @example
 * const points = hashIdsToCurve(['u00001', 'u00002'], salt) // 64 bytes, both on E
 */
export function hashIdsToCurve(ids: readonly string[], salt: Uint8Array): Uint8Array {
  aSalt(salt)
  if (!Array.isArray(ids)) throw new CryptoArgumentError('ids must be an array of strings')
  const out = new Uint8Array(ids.length * PSI_POINT_BYTES)
  for (let start = 0; start < ids.length; start += BATCH) {
    const count = Math.min(BATCH, ids.length - start)
    for (let i = 0; i < count; i++) {
      const id = ids[start + i]
      if (typeof id !== 'string') throw new CryptoArgumentError(`ids[${start + i}] must be a string`)
      // msg = salt || utf8(id); 3 bytes per UTF-16 unit bound its UTF-8 length.
      const m = msgRoom(PSI_SALT_BYTES + 3 * id.length)
      m.set(salt, MSG_AT)
      const idAt = MSG_AT + PSI_SALT_BYTES
      hashPending(idAt + m.write(id, idAt, 'utf8'), DST_V2, i)
    }
    finishBatch(count, out, start * PSI_POINT_BYTES)
  }
  return out
}

/**
 * Hashes one id (see {@link hashIdsToCurve}).
 *
 * @example
 * const u = hashIdToCurve('customer-42', salt) // 32 bytes
 */
export function hashIdToCurve(id: string, salt: Uint8Array): Uint8Array {
  aString(id, 'id')
  return hashIdsToCurve([id], salt)
}

/**
 * TEST ONLY: the RFC 9380 pieces with an arbitrary DST, for the published test vectors
 * (tests/vectors/psi-h2c-curve25519-ro.json): hash_to_field outputs, Q0, Q1 and x(Q0 + Q1).
 * @example
 * __TEST.hashToFieldAndMap(new TextEncoder().encode('abc'), 'QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_RO_')
 */
const testScratch = [F.alloc(), F.alloc(), F.alloc(), F.alloc()] as const
export const __TEST = Object.freeze({
  hashToFieldAndMap(msg: Uint8Array, dst: string) {
    const d = dstPrime(dst)
    msgRoom(msg.length).set(msg, MSG_AT)
    expandXmd96(MSG_AT + msg.length, d, uniform)
    F.fromBE48(u0, UNIFORM)
    F.fromBE48(u1, UNIFORM + 48)
    const q = (u: FeAddr) => {
      const [xn, xdd, y, x] = testScratch
      mapElligator2(u, xn, xdd, y)
      F.inv(x, xdd)
      F.mul(x, x, xn)
      return { x: F.toBig(x), y: F.toBig(y) }
    }
    const res = { u: [F.toBig(u0), F.toBig(u1)], Q0: q(u0), Q1: q(u1) }
    msgRoom(msg.length).set(msg, MSG_AT)
    hashPending(MSG_AT + msg.length, d, 0)
    const out = new Uint8Array(32)
    finishBatch(1, out, 0)
    return { ...res, sumX: out }
  }
})
