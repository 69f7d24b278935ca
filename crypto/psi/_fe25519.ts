/**
 * INTERNAL: arithmetic in F_p, p = 2^255 - 19, on Float64Array limbs, for hash-to-curve
 * (./hash-to-curve.ts). BigInt field code costs ~1.2 µs per multiplication on this machine
 * (allocation per operation), which made RFC 9380 hashing ~480 µs per id with noble; these limbs keep
 * every intermediate an exact IEEE double and allocate nothing.
 *
 * Representation: 12 limbs of radix 2^22 (264 bits), little-endian, value = Σ a[i]·2^(22i) mod p.
 * Limbs are "loose": after any operation here they lie in (-2^23, 2^23). Exactness argument for
 * {@link feMul}: |a[i]|, |b[j]| < 2^24 (inputs may be sums of two loose elements), so a product is
 * < 2^48 and a column of at most 12 products is < 2^51.6 < 2^53: every column sum is exact. The 23
 * columns are then carried (floor division by 2^22 is exact on doubles) and the limbs at weight
 * 2^(22k), k >= 12, are folded down with 2^264 ≡ 19·2^9 = 9728 (mod p).
 *
 * Only the canonical encoding (feToBytes) reduces fully below p; equality and parity go through it.
 * Selections are arithmetic (no branch on field values); the hash input is not secret against the
 * hashing party itself, but ids are, so we keep the map free of data-dependent branches where cheap.
 */

const LIMBS = 12
const RADIX = 4194304 // 2^22
const INV_RADIX = 1 / RADIX
const FOLD = 9728 // 2^264 mod p = 19 · 2^9
/**
 * x + ROUND - ROUND rounds x to the nearest multiple of 2^22 for |x| < 2^72: ROUND = 1.5 · 2^74 has
 * an ulp of 2^22 (binade [2^74, 2^75)). Two additions instead of a Math.floor call per carry; the
 * limbs become balanced, in [-2^21, 2^21].
 */
const ROUND = 1.5 * 2 ** 74
/** Weight of bit 255 inside the top limb: limb 11 holds bits 242..263. */
const TOP_SPLIT = 8192 // 2^13

/** A field element (12 loose limbs of radix 2^22). */
export type Fe = Float64Array

/** New zero element. */
export function fe(): Fe {
  return new Float64Array(LIMBS)
}

/** Element from a small non-negative integer (< 2^22). */
export function feSmall(n: number): Fe {
  const o = fe()
  o[0] = n
  return o
}

/** Element from a BigInt (constants only: not on the hot path). */
export function feFromBigInt(x: bigint): Fe {
  const p = (1n << 255n) - 19n
  let v = ((x % p) + p) % p
  const o = fe()
  for (let i = 0; i < LIMBS; i++) {
    o[i] = Number(v & 0x3fffffn)
    v >>= 22n
  }
  return o
}

/** Canonical value as a BigInt (tests and constants). */
export function feToBigInt(a: Fe): bigint {
  const b = new Uint8Array(32)
  feToBytes(b, 0, a)
  let v = 0n
  for (let i = 31; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!)
  return v
}

export function feCopy(o: Fe, a: Fe): void {
  o.set(a)
}

export function feAdd(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = a[i]! + b[i]!
  feCarry(o)
}

export function feSub(o: Fe, a: Fe, b: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = a[i]! - b[i]!
  feCarry(o)
}

export function feNeg(o: Fe, a: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = -a[i]!
  feCarry(o)
}

/** o = flag ? a : o, for flag in {0, 1}, without a branch. */
export function feCmov(o: Fe, a: Fe, flag: number): void {
  for (let i = 0; i < LIMBS; i++) o[i] = o[i]! + flag * (a[i]! - o[i]!)
}

/** One carry pass over the limbs with the top carry folded into limb 0 (keeps limbs loose). */
function feCarry(o: Fe): void {
  let c = 0
  for (let i = 0; i < LIMBS; i++) {
    const v = o[i]! + c
    c = Math.floor(v * INV_RADIX)
    o[i] = v - c * RADIX
  }
  // c·2^264 ≡ c·9728; limb 0 may leave [0, 2^22) by |c|·9728, which the next carry absorbs.
  const v0 = o[0]! + c * FOLD
  const c0 = Math.floor(v0 * INV_RADIX)
  o[0] = v0 - c0 * RADIX
  o[1] = o[1]! + c0
}

const COLS = new Float64Array(2 * LIMBS)

/**
 * o = a · b (o may alias a or b). Unrolled (generated): 144 products into 23 column sums, each exact
 * (see the file comment), then one carry chain over the columns and the 2^264 ≡ 9728 fold.
 */
export function feMul(o: Fe, a: Fe, b: Fe): void {
  const a0 = a[0]!,
    a1 = a[1]!,
    a2 = a[2]!,
    a3 = a[3]!,
    a4 = a[4]!,
    a5 = a[5]!,
    a6 = a[6]!,
    a7 = a[7]!,
    a8 = a[8]!,
    a9 = a[9]!,
    a10 = a[10]!,
    a11 = a[11]!
  const b0 = b[0]!,
    b1 = b[1]!,
    b2 = b[2]!,
    b3 = b[3]!,
    b4 = b[4]!,
    b5 = b[5]!,
    b6 = b[6]!,
    b7 = b[7]!,
    b8 = b[8]!,
    b9 = b[9]!,
    b10 = b[10]!,
    b11 = b[11]!
  let c0 = a0 * b0
  let c1 = a0 * b1 + a1 * b0
  let c2 = a0 * b2 + a1 * b1 + a2 * b0
  let c3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0
  let c4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0
  let c5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0
  let c6 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0
  let c7 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0
  let c8 = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0
  let c9 = a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1 + a9 * b0
  let c10 =
    a0 * b10 +
    a1 * b9 +
    a2 * b8 +
    a3 * b7 +
    a4 * b6 +
    a5 * b5 +
    a6 * b4 +
    a7 * b3 +
    a8 * b2 +
    a9 * b1 +
    a10 * b0
  let c11 =
    a0 * b11 +
    a1 * b10 +
    a2 * b9 +
    a3 * b8 +
    a4 * b7 +
    a5 * b6 +
    a6 * b5 +
    a7 * b4 +
    a8 * b3 +
    a9 * b2 +
    a10 * b1 +
    a11 * b0
  let c12 =
    a1 * b11 +
    a2 * b10 +
    a3 * b9 +
    a4 * b8 +
    a5 * b7 +
    a6 * b6 +
    a7 * b5 +
    a8 * b4 +
    a9 * b3 +
    a10 * b2 +
    a11 * b1
  let c13 =
    a2 * b11 + a3 * b10 + a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5 + a9 * b4 + a10 * b3 + a11 * b2
  let c14 = a3 * b11 + a4 * b10 + a5 * b9 + a6 * b8 + a7 * b7 + a8 * b6 + a9 * b5 + a10 * b4 + a11 * b3
  let c15 = a4 * b11 + a5 * b10 + a6 * b9 + a7 * b8 + a8 * b7 + a9 * b6 + a10 * b5 + a11 * b4
  let c16 = a5 * b11 + a6 * b10 + a7 * b9 + a8 * b8 + a9 * b7 + a10 * b6 + a11 * b5
  let c17 = a6 * b11 + a7 * b10 + a8 * b9 + a9 * b8 + a10 * b7 + a11 * b6
  let c18 = a7 * b11 + a8 * b10 + a9 * b9 + a10 * b8 + a11 * b7
  let c19 = a8 * b11 + a9 * b10 + a10 * b9 + a11 * b8
  let c20 = a9 * b11 + a10 * b10 + a11 * b9
  let c21 = a10 * b11 + a11 * b10
  let c22 = a11 * b11
  let h = 0
  h = c0 + ROUND - ROUND
  c0 -= h
  c1 += h * INV_RADIX
  h = c1 + ROUND - ROUND
  c1 -= h
  c2 += h * INV_RADIX
  h = c2 + ROUND - ROUND
  c2 -= h
  c3 += h * INV_RADIX
  h = c3 + ROUND - ROUND
  c3 -= h
  c4 += h * INV_RADIX
  h = c4 + ROUND - ROUND
  c4 -= h
  c5 += h * INV_RADIX
  h = c5 + ROUND - ROUND
  c5 -= h
  c6 += h * INV_RADIX
  h = c6 + ROUND - ROUND
  c6 -= h
  c7 += h * INV_RADIX
  h = c7 + ROUND - ROUND
  c7 -= h
  c8 += h * INV_RADIX
  h = c8 + ROUND - ROUND
  c8 -= h
  c9 += h * INV_RADIX
  h = c9 + ROUND - ROUND
  c9 -= h
  c10 += h * INV_RADIX
  h = c10 + ROUND - ROUND
  c10 -= h
  c11 += h * INV_RADIX
  h = c11 + ROUND - ROUND
  c11 -= h
  c12 += h * INV_RADIX
  h = c12 + ROUND - ROUND
  c12 -= h
  c13 += h * INV_RADIX
  h = c13 + ROUND - ROUND
  c13 -= h
  c14 += h * INV_RADIX
  h = c14 + ROUND - ROUND
  c14 -= h
  c15 += h * INV_RADIX
  h = c15 + ROUND - ROUND
  c15 -= h
  c16 += h * INV_RADIX
  h = c16 + ROUND - ROUND
  c16 -= h
  c17 += h * INV_RADIX
  h = c17 + ROUND - ROUND
  c17 -= h
  c18 += h * INV_RADIX
  h = c18 + ROUND - ROUND
  c18 -= h
  c19 += h * INV_RADIX
  h = c19 + ROUND - ROUND
  c19 -= h
  c20 += h * INV_RADIX
  h = c20 + ROUND - ROUND
  c20 -= h
  c21 += h * INV_RADIX
  h = c21 + ROUND - ROUND
  c21 -= h
  c22 += h * INV_RADIX
  h = c22 + ROUND - ROUND
  c22 -= h
  const c23 = h * INV_RADIX
  let r0 = c0 + FOLD * c12
  h = r0 + ROUND - ROUND
  r0 -= h
  let r1 = c1 + FOLD * c13 + h * INV_RADIX
  h = r1 + ROUND - ROUND
  r1 -= h
  let r2 = c2 + FOLD * c14 + h * INV_RADIX
  h = r2 + ROUND - ROUND
  r2 -= h
  let r3 = c3 + FOLD * c15 + h * INV_RADIX
  h = r3 + ROUND - ROUND
  r3 -= h
  let r4 = c4 + FOLD * c16 + h * INV_RADIX
  h = r4 + ROUND - ROUND
  r4 -= h
  let r5 = c5 + FOLD * c17 + h * INV_RADIX
  h = r5 + ROUND - ROUND
  r5 -= h
  let r6 = c6 + FOLD * c18 + h * INV_RADIX
  h = r6 + ROUND - ROUND
  r6 -= h
  let r7 = c7 + FOLD * c19 + h * INV_RADIX
  h = r7 + ROUND - ROUND
  r7 -= h
  let r8 = c8 + FOLD * c20 + h * INV_RADIX
  h = r8 + ROUND - ROUND
  r8 -= h
  let r9 = c9 + FOLD * c21 + h * INV_RADIX
  h = r9 + ROUND - ROUND
  r9 -= h
  let r10 = c10 + FOLD * c22 + h * INV_RADIX
  h = r10 + ROUND - ROUND
  r10 -= h
  let r11 = c11 + FOLD * c23 + h * INV_RADIX
  h = r11 + ROUND - ROUND
  r11 -= h
  r0 += h * (FOLD * INV_RADIX)
  h = r0 + ROUND - ROUND
  r0 -= h
  r1 += h * INV_RADIX
  o[0] = r0
  o[1] = r1
  o[2] = r2
  o[3] = r3
  o[4] = r4
  o[5] = r5
  o[6] = r6
  o[7] = r7
  o[8] = r8
  o[9] = r9
  o[10] = r10
  o[11] = r11
}

/** o = a² (o may alias a): 78 products (cross terms doubled), same carry and fold as feMul. */
export function feSqr(o: Fe, a: Fe): void {
  const a0 = a[0]!,
    a1 = a[1]!,
    a2 = a[2]!,
    a3 = a[3]!,
    a4 = a[4]!,
    a5 = a[5]!,
    a6 = a[6]!,
    a7 = a[7]!,
    a8 = a[8]!,
    a9 = a[9]!,
    a10 = a[10]!,
    a11 = a[11]!
  const d0 = 2 * a0,
    d1 = 2 * a1,
    d2 = 2 * a2,
    d3 = 2 * a3,
    d4 = 2 * a4,
    d5 = 2 * a5,
    d6 = 2 * a6,
    d7 = 2 * a7,
    d8 = 2 * a8,
    d9 = 2 * a9,
    d10 = 2 * a10
  let c0 = a0 * a0
  let c1 = d0 * a1
  let c2 = d0 * a2 + a1 * a1
  let c3 = d0 * a3 + d1 * a2
  let c4 = d0 * a4 + d1 * a3 + a2 * a2
  let c5 = d0 * a5 + d1 * a4 + d2 * a3
  let c6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3
  let c7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4
  let c8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4
  let c9 = d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5
  let c10 = d0 * a10 + d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5
  let c11 = d0 * a11 + d1 * a10 + d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6
  let c12 = d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6
  let c13 = d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7
  let c14 = d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7
  let c15 = d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8
  let c16 = d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8
  let c17 = d6 * a11 + d7 * a10 + d8 * a9
  let c18 = d7 * a11 + d8 * a10 + a9 * a9
  let c19 = d8 * a11 + d9 * a10
  let c20 = d9 * a11 + a10 * a10
  let c21 = d10 * a11
  let c22 = a11 * a11
  let h = 0
  h = c0 + ROUND - ROUND
  c0 -= h
  c1 += h * INV_RADIX
  h = c1 + ROUND - ROUND
  c1 -= h
  c2 += h * INV_RADIX
  h = c2 + ROUND - ROUND
  c2 -= h
  c3 += h * INV_RADIX
  h = c3 + ROUND - ROUND
  c3 -= h
  c4 += h * INV_RADIX
  h = c4 + ROUND - ROUND
  c4 -= h
  c5 += h * INV_RADIX
  h = c5 + ROUND - ROUND
  c5 -= h
  c6 += h * INV_RADIX
  h = c6 + ROUND - ROUND
  c6 -= h
  c7 += h * INV_RADIX
  h = c7 + ROUND - ROUND
  c7 -= h
  c8 += h * INV_RADIX
  h = c8 + ROUND - ROUND
  c8 -= h
  c9 += h * INV_RADIX
  h = c9 + ROUND - ROUND
  c9 -= h
  c10 += h * INV_RADIX
  h = c10 + ROUND - ROUND
  c10 -= h
  c11 += h * INV_RADIX
  h = c11 + ROUND - ROUND
  c11 -= h
  c12 += h * INV_RADIX
  h = c12 + ROUND - ROUND
  c12 -= h
  c13 += h * INV_RADIX
  h = c13 + ROUND - ROUND
  c13 -= h
  c14 += h * INV_RADIX
  h = c14 + ROUND - ROUND
  c14 -= h
  c15 += h * INV_RADIX
  h = c15 + ROUND - ROUND
  c15 -= h
  c16 += h * INV_RADIX
  h = c16 + ROUND - ROUND
  c16 -= h
  c17 += h * INV_RADIX
  h = c17 + ROUND - ROUND
  c17 -= h
  c18 += h * INV_RADIX
  h = c18 + ROUND - ROUND
  c18 -= h
  c19 += h * INV_RADIX
  h = c19 + ROUND - ROUND
  c19 -= h
  c20 += h * INV_RADIX
  h = c20 + ROUND - ROUND
  c20 -= h
  c21 += h * INV_RADIX
  h = c21 + ROUND - ROUND
  c21 -= h
  c22 += h * INV_RADIX
  h = c22 + ROUND - ROUND
  c22 -= h
  const c23 = h * INV_RADIX
  let r0 = c0 + FOLD * c12
  h = r0 + ROUND - ROUND
  r0 -= h
  let r1 = c1 + FOLD * c13 + h * INV_RADIX
  h = r1 + ROUND - ROUND
  r1 -= h
  let r2 = c2 + FOLD * c14 + h * INV_RADIX
  h = r2 + ROUND - ROUND
  r2 -= h
  let r3 = c3 + FOLD * c15 + h * INV_RADIX
  h = r3 + ROUND - ROUND
  r3 -= h
  let r4 = c4 + FOLD * c16 + h * INV_RADIX
  h = r4 + ROUND - ROUND
  r4 -= h
  let r5 = c5 + FOLD * c17 + h * INV_RADIX
  h = r5 + ROUND - ROUND
  r5 -= h
  let r6 = c6 + FOLD * c18 + h * INV_RADIX
  h = r6 + ROUND - ROUND
  r6 -= h
  let r7 = c7 + FOLD * c19 + h * INV_RADIX
  h = r7 + ROUND - ROUND
  r7 -= h
  let r8 = c8 + FOLD * c20 + h * INV_RADIX
  h = r8 + ROUND - ROUND
  r8 -= h
  let r9 = c9 + FOLD * c21 + h * INV_RADIX
  h = r9 + ROUND - ROUND
  r9 -= h
  let r10 = c10 + FOLD * c22 + h * INV_RADIX
  h = r10 + ROUND - ROUND
  r10 -= h
  let r11 = c11 + FOLD * c23 + h * INV_RADIX
  h = r11 + ROUND - ROUND
  r11 -= h
  r0 += h * (FOLD * INV_RADIX)
  h = r0 + ROUND - ROUND
  r0 -= h
  r1 += h * INV_RADIX
  o[0] = r0
  o[1] = r1
  o[2] = r2
  o[3] = r3
  o[4] = r4
  o[5] = r5
  o[6] = r6
  o[7] = r7
  o[8] = r8
  o[9] = r9
  o[10] = r10
  o[11] = r11
}

/** o = a · k for a small integer 0 <= k < 2^20 (products stay < 2^44). */
export function feMulSmall(o: Fe, a: Fe, k: number): void {
  for (let i = 0; i < LIMBS; i++) o[i] = a[i]! * k
  feCarry(o)
  feCarry(o)
}

/** o = a^(2^count) by count squarings, count >= 1 (limbs stay in locals between squarings). */
function feSqrN(o: Fe, a: Fe, count: number): void {
  let a0 = a[0]!,
    a1 = a[1]!,
    a2 = a[2]!,
    a3 = a[3]!,
    a4 = a[4]!,
    a5 = a[5]!,
    a6 = a[6]!,
    a7 = a[7]!,
    a8 = a[8]!,
    a9 = a[9]!,
    a10 = a[10]!,
    a11 = a[11]!
  for (let n = 0; n < count; n++) {
    const d0 = 2 * a0,
      d1 = 2 * a1,
      d2 = 2 * a2,
      d3 = 2 * a3,
      d4 = 2 * a4,
      d5 = 2 * a5,
      d6 = 2 * a6,
      d7 = 2 * a7,
      d8 = 2 * a8,
      d9 = 2 * a9,
      d10 = 2 * a10
    let c0 = a0 * a0
    let c1 = d0 * a1
    let c2 = d0 * a2 + a1 * a1
    let c3 = d0 * a3 + d1 * a2
    let c4 = d0 * a4 + d1 * a3 + a2 * a2
    let c5 = d0 * a5 + d1 * a4 + d2 * a3
    let c6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3
    let c7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4
    let c8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4
    let c9 = d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5
    let c10 = d0 * a10 + d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5
    let c11 = d0 * a11 + d1 * a10 + d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6
    let c12 = d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6
    let c13 = d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7
    let c14 = d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7
    let c15 = d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8
    let c16 = d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8
    let c17 = d6 * a11 + d7 * a10 + d8 * a9
    let c18 = d7 * a11 + d8 * a10 + a9 * a9
    let c19 = d8 * a11 + d9 * a10
    let c20 = d9 * a11 + a10 * a10
    let c21 = d10 * a11
    let c22 = a11 * a11
    let h = 0
    h = c0 + ROUND - ROUND
    c0 -= h
    c1 += h * INV_RADIX
    h = c1 + ROUND - ROUND
    c1 -= h
    c2 += h * INV_RADIX
    h = c2 + ROUND - ROUND
    c2 -= h
    c3 += h * INV_RADIX
    h = c3 + ROUND - ROUND
    c3 -= h
    c4 += h * INV_RADIX
    h = c4 + ROUND - ROUND
    c4 -= h
    c5 += h * INV_RADIX
    h = c5 + ROUND - ROUND
    c5 -= h
    c6 += h * INV_RADIX
    h = c6 + ROUND - ROUND
    c6 -= h
    c7 += h * INV_RADIX
    h = c7 + ROUND - ROUND
    c7 -= h
    c8 += h * INV_RADIX
    h = c8 + ROUND - ROUND
    c8 -= h
    c9 += h * INV_RADIX
    h = c9 + ROUND - ROUND
    c9 -= h
    c10 += h * INV_RADIX
    h = c10 + ROUND - ROUND
    c10 -= h
    c11 += h * INV_RADIX
    h = c11 + ROUND - ROUND
    c11 -= h
    c12 += h * INV_RADIX
    h = c12 + ROUND - ROUND
    c12 -= h
    c13 += h * INV_RADIX
    h = c13 + ROUND - ROUND
    c13 -= h
    c14 += h * INV_RADIX
    h = c14 + ROUND - ROUND
    c14 -= h
    c15 += h * INV_RADIX
    h = c15 + ROUND - ROUND
    c15 -= h
    c16 += h * INV_RADIX
    h = c16 + ROUND - ROUND
    c16 -= h
    c17 += h * INV_RADIX
    h = c17 + ROUND - ROUND
    c17 -= h
    c18 += h * INV_RADIX
    h = c18 + ROUND - ROUND
    c18 -= h
    c19 += h * INV_RADIX
    h = c19 + ROUND - ROUND
    c19 -= h
    c20 += h * INV_RADIX
    h = c20 + ROUND - ROUND
    c20 -= h
    c21 += h * INV_RADIX
    h = c21 + ROUND - ROUND
    c21 -= h
    c22 += h * INV_RADIX
    h = c22 + ROUND - ROUND
    c22 -= h
    const c23 = h * INV_RADIX
    let r0 = c0 + FOLD * c12
    h = r0 + ROUND - ROUND
    r0 -= h
    let r1 = c1 + FOLD * c13 + h * INV_RADIX
    h = r1 + ROUND - ROUND
    r1 -= h
    let r2 = c2 + FOLD * c14 + h * INV_RADIX
    h = r2 + ROUND - ROUND
    r2 -= h
    let r3 = c3 + FOLD * c15 + h * INV_RADIX
    h = r3 + ROUND - ROUND
    r3 -= h
    let r4 = c4 + FOLD * c16 + h * INV_RADIX
    h = r4 + ROUND - ROUND
    r4 -= h
    let r5 = c5 + FOLD * c17 + h * INV_RADIX
    h = r5 + ROUND - ROUND
    r5 -= h
    let r6 = c6 + FOLD * c18 + h * INV_RADIX
    h = r6 + ROUND - ROUND
    r6 -= h
    let r7 = c7 + FOLD * c19 + h * INV_RADIX
    h = r7 + ROUND - ROUND
    r7 -= h
    let r8 = c8 + FOLD * c20 + h * INV_RADIX
    h = r8 + ROUND - ROUND
    r8 -= h
    let r9 = c9 + FOLD * c21 + h * INV_RADIX
    h = r9 + ROUND - ROUND
    r9 -= h
    let r10 = c10 + FOLD * c22 + h * INV_RADIX
    h = r10 + ROUND - ROUND
    r10 -= h
    let r11 = c11 + FOLD * c23 + h * INV_RADIX
    h = r11 + ROUND - ROUND
    r11 -= h
    r0 += h * (FOLD * INV_RADIX)
    h = r0 + ROUND - ROUND
    r0 -= h
    r1 += h * INV_RADIX
    a0 = r0
    a1 = r1
    a2 = r2
    a3 = r3
    a4 = r4
    a5 = r5
    a6 = r6
    a7 = r7
    a8 = r8
    a9 = r9
    a10 = r10
    a11 = r11
  }
  o[0] = a0
  o[1] = a1
  o[2] = a2
  o[3] = a3
  o[4] = a4
  o[5] = a5
  o[6] = a6
  o[7] = a7
  o[8] = a8
  o[9] = a9
  o[10] = a10
  o[11] = a11
}

// Scratch for the addition chains (single-threaded: callers never interleave).
const T0 = fe()
const T1 = fe()
const T2 = fe()
const T3 = fe()

/**
 * Shared prefix of the exponentiation chains (the ref10 / RFC 8032 chain): returns z^(2^250 - 1) in
 * T3 and z^11 in T1. 250 squarings and 11 multiplications.
 */
function pow250(z: Fe): void {
  feSqr(T0, z) // z^2
  feSqrN(T1, T0, 2) // z^8
  feMul(T1, T1, z) // z^9
  feMul(T0, T0, T1) // z^11
  feSqr(T2, T0) // z^22
  feMul(T1, T1, T2) // z^31 = z^(2^5 - 1)
  feSqrN(T2, T1, 5)
  feMul(T1, T2, T1) // 2^10 - 1
  feSqrN(T2, T1, 10)
  feMul(T2, T2, T1) // 2^20 - 1
  feSqrN(T3, T2, 20)
  feMul(T2, T3, T2) // 2^40 - 1
  feSqrN(T2, T2, 10)
  feMul(T1, T2, T1) // 2^50 - 1
  feSqrN(T2, T1, 50)
  feMul(T2, T2, T1) // 2^100 - 1
  feSqrN(T3, T2, 100)
  feMul(T2, T3, T2) // 2^200 - 1
  feSqrN(T2, T2, 50)
  feMul(T3, T2, T1) // 2^250 - 1
  feCopy(T1, T0) // z^11
}

/** o = z^((p-5)/8) = z^(2^252 - 3). */
export function fePow2523(o: Fe, z: Fe): void {
  pow250(z)
  feSqrN(T3, T3, 2) // 2^252 - 4
  feMul(o, T3, z)
}

/** o = z^(p-2) = 1/z (0 maps to 0). */
export function feInv(o: Fe, z: Fe): void {
  pow250(z)
  feSqrN(T3, T3, 5) // 2^255 - 32
  feMul(o, T3, T1) // 2^255 - 21 = p - 2
}

const CANON = fe()
const CANON_B = fe()

/**
 * Writes the canonical limbs of `a` to `t`: value in [0, p), limbs in [0, 2^22), top limb < 2^13.
 * Two folds of the bits >= 255 (2^255 ≡ 19) bring any loose value into [0, 2^255), then p is
 * subtracted when value + 19 >= 2^255 (selected arithmetically, no branch).
 */
function feCanon(t: Fe, a: Fe): void {
  t.set(a)
  for (let pass = 0; pass < 3; pass++) {
    let c = 0
    for (let i = 0; i < LIMBS; i++) {
      const v = t[i]! + c
      c = Math.floor(v * INV_RADIX)
      t[i] = v - c * RADIX
    }
    // c counts 2^264 = 2^9 · 2^255; the top limb's bits 13.. are bits 255.. of the value.
    const top = Math.floor(t[LIMBS - 1]! / TOP_SPLIT)
    t[LIMBS - 1] = t[LIMBS - 1]! - top * TOP_SPLIT
    t[0] = t[0]! + 19 * (top + 512 * c)
  }
  let c = 0
  for (let i = 0; i < LIMBS; i++) {
    const v = t[i]! + c
    c = Math.floor(v * INV_RADIX)
    t[i] = v - c * RADIX
  }
  let carry = 19
  const s = COLS
  for (let i = 0; i < LIMBS; i++) {
    const v = t[i]! + carry
    carry = Math.floor(v * INV_RADIX)
    s[i] = v - carry * RADIX
  }
  const ge = Math.floor(s[LIMBS - 1]! / TOP_SPLIT) // 1 when value + 19 >= 2^255, i.e. value >= p
  s[LIMBS - 1] = s[LIMBS - 1]! - ge * TOP_SPLIT
  for (let i = 0; i < LIMBS; i++) t[i] = t[i]! + ge * (s[i]! - t[i]!)
}

/**
 * Writes the canonical little-endian encoding (value in [0, p)) of `a` to out[at..at+32).
 */
export function feToBytes(out: Uint8Array, at: number, a: Fe): void {
  const t = CANON
  feCanon(t, a)
  let acc = 0
  let bits = 0
  let o = at
  const end = at + 32
  for (let i = 0; i < LIMBS; i++) {
    acc += t[i]! * 2 ** bits
    bits += 22
    while (bits >= 8 && o < end) {
      const byte = acc & 0xff
      out[o++] = byte
      acc = (acc - byte) / 256
      bits -= 8
    }
  }
}

/** 1 when a ≡ b (mod p), else 0: a - b reduced canonically, tested for zero without early exit. */
export function feEq(a: Fe, b: Fe): number {
  for (let i = 0; i < LIMBS; i++) CANON_B[i] = a[i]! - b[i]!
  return feIsZero(CANON_B)
}

/** 1 when a ≡ 0 (mod p). */
export function feIsZero(a: Fe): number {
  feCanon(CANON, a)
  let d = 0
  for (let i = 0; i < LIMBS; i++) d |= CANON[i]!
  return d === 0 ? 1 : 0
}

/** sgn0 of RFC 9380 §4.1 for m = 1: the parity of the canonical value. */
export function feSgn0(a: Fe): number {
  feCanon(CANON, a)
  return CANON[0]! & 1
}

/**
 * o = OS2IP(bytes[at..at+48)) mod p: a 384-bit big-endian integer (RFC 9380 §5.2, L = 48). Bits are
 * read into 18 limbs of 22 bits and the limbs at weight >= 2^264 are folded with 2^264 ≡ 9728.
 */
export function feFromBytesBE48(o: Fe, bytes: Uint8Array, at: number): void {
  const t = COLS
  t.fill(0)
  let acc = 0
  let bits = 0
  let k = 0
  for (let i = at + 47; i >= at; i--) {
    acc += bytes[i]! * 2 ** bits
    bits += 8
    if (bits >= 22) {
      const limb = acc % RADIX
      t[k++] = limb
      acc = (acc - limb) / RADIX
      bits -= 22
    }
  }
  t[k] = acc // 384 = 17·22 + 10: the last 10 bits
  for (let i = 0; i < LIMBS; i++) o[i] = t[i]! + (i + LIMBS < 2 * LIMBS ? FOLD * t[i + LIMBS]! : 0)
  feCarry(o)
  feCarry(o)
}
