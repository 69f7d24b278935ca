/**
 * INTERNAL: arithmetic in F_p, p = 2^255 - 19, on Float64Array limbs, for hash-to-curve
 * (./hash-to-curve.ts). BigInt field code costs ~1.2 µs per multiplication on this machine
 * (allocation per operation), which made RFC 9380 hashing ~480 µs per id with noble; these limbs keep
 * every intermediate an exact IEEE double and allocate nothing.
 *
 * Representation: 12 limbs of radix 2^22 (264 bits), little-endian, value = Σ a[i]·2^(22i) mod p.
 * Limbs are "loose": after any operation here they lie in (-2^23, 2^23). Exactness argument for
 * {@link feMul}: |a[i]|, |b[j]| < 2^24 (inputs may be sums of two loose elements), so a product is
 * < 2^48 and a column of at most 12 products is < 2^51.6 < 2^53: every column sum is exact.
 *
 * Carries without a chain (a chain of 36 dependent carries made a squaring latency-bound; this halved
 * the (p-5)/8 power): (1) every column c_k splits on its own into h_k = c_k rounded to a multiple of
 * 2^22 and c_k - h_k in [-2^21, 2^21]; n_k = (c_k - h_k) + h_(k-1)/2^22, so |n_k| < 2^21 + 2^29.6;
 * (2) the columns at weight 2^(22k), k >= 12, fold down with 2^264 ≡ 19·2^9 = 9728 (mod p):
 * m_k = n_k + 9728·n_(k+12) < 2^43 (exact); (3) the 12 limbs split once more the same way, the top
 * carry (< 2^21) folding into limb 0 as ·9728, and limb 0 carries once into limb 1. Results: limbs
 * 2..11 within [-2^22, 2^22], limbs 0 and 1 within (-2^23, 2^23).
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
 * (see the file comment), then the chain-free carries and the 2^264 ≡ 9728 fold.
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
  const c0 = a0 * b0
  const c1 = a0 * b1 + a1 * b0
  const c2 = a0 * b2 + a1 * b1 + a2 * b0
  const c3 = a0 * b3 + a1 * b2 + a2 * b1 + a3 * b0
  const c4 = a0 * b4 + a1 * b3 + a2 * b2 + a3 * b1 + a4 * b0
  const c5 = a0 * b5 + a1 * b4 + a2 * b3 + a3 * b2 + a4 * b1 + a5 * b0
  const c6 = a0 * b6 + a1 * b5 + a2 * b4 + a3 * b3 + a4 * b2 + a5 * b1 + a6 * b0
  const c7 = a0 * b7 + a1 * b6 + a2 * b5 + a3 * b4 + a4 * b3 + a5 * b2 + a6 * b1 + a7 * b0
  const c8 = a0 * b8 + a1 * b7 + a2 * b6 + a3 * b5 + a4 * b4 + a5 * b3 + a6 * b2 + a7 * b1 + a8 * b0
  const c9 = a0 * b9 + a1 * b8 + a2 * b7 + a3 * b6 + a4 * b5 + a5 * b4 + a6 * b3 + a7 * b2 + a8 * b1 + a9 * b0
  const c10 =
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
  const c11 =
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
  const c12 =
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
  const c13 =
    a2 * b11 + a3 * b10 + a4 * b9 + a5 * b8 + a6 * b7 + a7 * b6 + a8 * b5 + a9 * b4 + a10 * b3 + a11 * b2
  const c14 = a3 * b11 + a4 * b10 + a5 * b9 + a6 * b8 + a7 * b7 + a8 * b6 + a9 * b5 + a10 * b4 + a11 * b3
  const c15 = a4 * b11 + a5 * b10 + a6 * b9 + a7 * b8 + a8 * b7 + a9 * b6 + a10 * b5 + a11 * b4
  const c16 = a5 * b11 + a6 * b10 + a7 * b9 + a8 * b8 + a9 * b7 + a10 * b6 + a11 * b5
  const c17 = a6 * b11 + a7 * b10 + a8 * b9 + a9 * b8 + a10 * b7 + a11 * b6
  const c18 = a7 * b11 + a8 * b10 + a9 * b9 + a10 * b8 + a11 * b7
  const c19 = a8 * b11 + a9 * b10 + a10 * b9 + a11 * b8
  const c20 = a9 * b11 + a10 * b10 + a11 * b9
  const c21 = a10 * b11 + a11 * b10
  const c22 = a11 * b11
  // Carries without a chain (see the file comment): each column splits on its own.
  const h0 = c0 + ROUND - ROUND
  const h1 = c1 + ROUND - ROUND
  const h2 = c2 + ROUND - ROUND
  const h3 = c3 + ROUND - ROUND
  const h4 = c4 + ROUND - ROUND
  const h5 = c5 + ROUND - ROUND
  const h6 = c6 + ROUND - ROUND
  const h7 = c7 + ROUND - ROUND
  const h8 = c8 + ROUND - ROUND
  const h9 = c9 + ROUND - ROUND
  const h10 = c10 + ROUND - ROUND
  const h11 = c11 + ROUND - ROUND
  const h12 = c12 + ROUND - ROUND
  const h13 = c13 + ROUND - ROUND
  const h14 = c14 + ROUND - ROUND
  const h15 = c15 + ROUND - ROUND
  const h16 = c16 + ROUND - ROUND
  const h17 = c17 + ROUND - ROUND
  const h18 = c18 + ROUND - ROUND
  const h19 = c19 + ROUND - ROUND
  const h20 = c20 + ROUND - ROUND
  const h21 = c21 + ROUND - ROUND
  const h22 = c22 + ROUND - ROUND
  const n0 = c0 - h0
  const n1 = c1 - h1 + h0 * INV_RADIX
  const n2 = c2 - h2 + h1 * INV_RADIX
  const n3 = c3 - h3 + h2 * INV_RADIX
  const n4 = c4 - h4 + h3 * INV_RADIX
  const n5 = c5 - h5 + h4 * INV_RADIX
  const n6 = c6 - h6 + h5 * INV_RADIX
  const n7 = c7 - h7 + h6 * INV_RADIX
  const n8 = c8 - h8 + h7 * INV_RADIX
  const n9 = c9 - h9 + h8 * INV_RADIX
  const n10 = c10 - h10 + h9 * INV_RADIX
  const n11 = c11 - h11 + h10 * INV_RADIX
  const n12 = c12 - h12 + h11 * INV_RADIX
  const n13 = c13 - h13 + h12 * INV_RADIX
  const n14 = c14 - h14 + h13 * INV_RADIX
  const n15 = c15 - h15 + h14 * INV_RADIX
  const n16 = c16 - h16 + h15 * INV_RADIX
  const n17 = c17 - h17 + h16 * INV_RADIX
  const n18 = c18 - h18 + h17 * INV_RADIX
  const n19 = c19 - h19 + h18 * INV_RADIX
  const n20 = c20 - h20 + h19 * INV_RADIX
  const n21 = c21 - h21 + h20 * INV_RADIX
  const n22 = c22 - h22 + h21 * INV_RADIX
  const n23 = h22 * INV_RADIX
  const m0 = n0 + FOLD * n12
  const m1 = n1 + FOLD * n13
  const m2 = n2 + FOLD * n14
  const m3 = n3 + FOLD * n15
  const m4 = n4 + FOLD * n16
  const m5 = n5 + FOLD * n17
  const m6 = n6 + FOLD * n18
  const m7 = n7 + FOLD * n19
  const m8 = n8 + FOLD * n20
  const m9 = n9 + FOLD * n21
  const m10 = n10 + FOLD * n22
  const m11 = n11 + FOLD * n23
  const g0 = m0 + ROUND - ROUND
  const g1 = m1 + ROUND - ROUND
  const g2 = m2 + ROUND - ROUND
  const g3 = m3 + ROUND - ROUND
  const g4 = m4 + ROUND - ROUND
  const g5 = m5 + ROUND - ROUND
  const g6 = m6 + ROUND - ROUND
  const g7 = m7 + ROUND - ROUND
  const g8 = m8 + ROUND - ROUND
  const g9 = m9 + ROUND - ROUND
  const g10 = m10 + ROUND - ROUND
  const g11 = m11 + ROUND - ROUND
  let r0 = m0 - g0 + g11 * (FOLD * INV_RADIX)
  let r1 = m1 - g1 + g0 * INV_RADIX
  const r2 = m2 - g2 + g1 * INV_RADIX
  const r3 = m3 - g3 + g2 * INV_RADIX
  const r4 = m4 - g4 + g3 * INV_RADIX
  const r5 = m5 - g5 + g4 * INV_RADIX
  const r6 = m6 - g6 + g5 * INV_RADIX
  const r7 = m7 - g7 + g6 * INV_RADIX
  const r8 = m8 - g8 + g7 * INV_RADIX
  const r9 = m9 - g9 + g8 * INV_RADIX
  const r10 = m10 - g10 + g9 * INV_RADIX
  const r11 = m11 - g11 + g10 * INV_RADIX
  const t = r0 + ROUND - ROUND
  r0 -= t
  r1 += t * INV_RADIX
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
  const c0 = a0 * a0
  const c1 = d0 * a1
  const c2 = d0 * a2 + a1 * a1
  const c3 = d0 * a3 + d1 * a2
  const c4 = d0 * a4 + d1 * a3 + a2 * a2
  const c5 = d0 * a5 + d1 * a4 + d2 * a3
  const c6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3
  const c7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4
  const c8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4
  const c9 = d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5
  const c10 = d0 * a10 + d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5
  const c11 = d0 * a11 + d1 * a10 + d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6
  const c12 = d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6
  const c13 = d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7
  const c14 = d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7
  const c15 = d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8
  const c16 = d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8
  const c17 = d6 * a11 + d7 * a10 + d8 * a9
  const c18 = d7 * a11 + d8 * a10 + a9 * a9
  const c19 = d8 * a11 + d9 * a10
  const c20 = d9 * a11 + a10 * a10
  const c21 = d10 * a11
  const c22 = a11 * a11
  // Carries without a chain (see the file comment): each column splits on its own.
  const h0 = c0 + ROUND - ROUND
  const h1 = c1 + ROUND - ROUND
  const h2 = c2 + ROUND - ROUND
  const h3 = c3 + ROUND - ROUND
  const h4 = c4 + ROUND - ROUND
  const h5 = c5 + ROUND - ROUND
  const h6 = c6 + ROUND - ROUND
  const h7 = c7 + ROUND - ROUND
  const h8 = c8 + ROUND - ROUND
  const h9 = c9 + ROUND - ROUND
  const h10 = c10 + ROUND - ROUND
  const h11 = c11 + ROUND - ROUND
  const h12 = c12 + ROUND - ROUND
  const h13 = c13 + ROUND - ROUND
  const h14 = c14 + ROUND - ROUND
  const h15 = c15 + ROUND - ROUND
  const h16 = c16 + ROUND - ROUND
  const h17 = c17 + ROUND - ROUND
  const h18 = c18 + ROUND - ROUND
  const h19 = c19 + ROUND - ROUND
  const h20 = c20 + ROUND - ROUND
  const h21 = c21 + ROUND - ROUND
  const h22 = c22 + ROUND - ROUND
  const n0 = c0 - h0
  const n1 = c1 - h1 + h0 * INV_RADIX
  const n2 = c2 - h2 + h1 * INV_RADIX
  const n3 = c3 - h3 + h2 * INV_RADIX
  const n4 = c4 - h4 + h3 * INV_RADIX
  const n5 = c5 - h5 + h4 * INV_RADIX
  const n6 = c6 - h6 + h5 * INV_RADIX
  const n7 = c7 - h7 + h6 * INV_RADIX
  const n8 = c8 - h8 + h7 * INV_RADIX
  const n9 = c9 - h9 + h8 * INV_RADIX
  const n10 = c10 - h10 + h9 * INV_RADIX
  const n11 = c11 - h11 + h10 * INV_RADIX
  const n12 = c12 - h12 + h11 * INV_RADIX
  const n13 = c13 - h13 + h12 * INV_RADIX
  const n14 = c14 - h14 + h13 * INV_RADIX
  const n15 = c15 - h15 + h14 * INV_RADIX
  const n16 = c16 - h16 + h15 * INV_RADIX
  const n17 = c17 - h17 + h16 * INV_RADIX
  const n18 = c18 - h18 + h17 * INV_RADIX
  const n19 = c19 - h19 + h18 * INV_RADIX
  const n20 = c20 - h20 + h19 * INV_RADIX
  const n21 = c21 - h21 + h20 * INV_RADIX
  const n22 = c22 - h22 + h21 * INV_RADIX
  const n23 = h22 * INV_RADIX
  const m0 = n0 + FOLD * n12
  const m1 = n1 + FOLD * n13
  const m2 = n2 + FOLD * n14
  const m3 = n3 + FOLD * n15
  const m4 = n4 + FOLD * n16
  const m5 = n5 + FOLD * n17
  const m6 = n6 + FOLD * n18
  const m7 = n7 + FOLD * n19
  const m8 = n8 + FOLD * n20
  const m9 = n9 + FOLD * n21
  const m10 = n10 + FOLD * n22
  const m11 = n11 + FOLD * n23
  const g0 = m0 + ROUND - ROUND
  const g1 = m1 + ROUND - ROUND
  const g2 = m2 + ROUND - ROUND
  const g3 = m3 + ROUND - ROUND
  const g4 = m4 + ROUND - ROUND
  const g5 = m5 + ROUND - ROUND
  const g6 = m6 + ROUND - ROUND
  const g7 = m7 + ROUND - ROUND
  const g8 = m8 + ROUND - ROUND
  const g9 = m9 + ROUND - ROUND
  const g10 = m10 + ROUND - ROUND
  const g11 = m11 + ROUND - ROUND
  let r0 = m0 - g0 + g11 * (FOLD * INV_RADIX)
  let r1 = m1 - g1 + g0 * INV_RADIX
  const r2 = m2 - g2 + g1 * INV_RADIX
  const r3 = m3 - g3 + g2 * INV_RADIX
  const r4 = m4 - g4 + g3 * INV_RADIX
  const r5 = m5 - g5 + g4 * INV_RADIX
  const r6 = m6 - g6 + g5 * INV_RADIX
  const r7 = m7 - g7 + g6 * INV_RADIX
  const r8 = m8 - g8 + g7 * INV_RADIX
  const r9 = m9 - g9 + g8 * INV_RADIX
  const r10 = m10 - g10 + g9 * INV_RADIX
  const r11 = m11 - g11 + g10 * INV_RADIX
  const t = r0 + ROUND - ROUND
  r0 -= t
  r1 += t * INV_RADIX
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
    const c0 = a0 * a0
    const c1 = d0 * a1
    const c2 = d0 * a2 + a1 * a1
    const c3 = d0 * a3 + d1 * a2
    const c4 = d0 * a4 + d1 * a3 + a2 * a2
    const c5 = d0 * a5 + d1 * a4 + d2 * a3
    const c6 = d0 * a6 + d1 * a5 + d2 * a4 + a3 * a3
    const c7 = d0 * a7 + d1 * a6 + d2 * a5 + d3 * a4
    const c8 = d0 * a8 + d1 * a7 + d2 * a6 + d3 * a5 + a4 * a4
    const c9 = d0 * a9 + d1 * a8 + d2 * a7 + d3 * a6 + d4 * a5
    const c10 = d0 * a10 + d1 * a9 + d2 * a8 + d3 * a7 + d4 * a6 + a5 * a5
    const c11 = d0 * a11 + d1 * a10 + d2 * a9 + d3 * a8 + d4 * a7 + d5 * a6
    const c12 = d1 * a11 + d2 * a10 + d3 * a9 + d4 * a8 + d5 * a7 + a6 * a6
    const c13 = d2 * a11 + d3 * a10 + d4 * a9 + d5 * a8 + d6 * a7
    const c14 = d3 * a11 + d4 * a10 + d5 * a9 + d6 * a8 + a7 * a7
    const c15 = d4 * a11 + d5 * a10 + d6 * a9 + d7 * a8
    const c16 = d5 * a11 + d6 * a10 + d7 * a9 + a8 * a8
    const c17 = d6 * a11 + d7 * a10 + d8 * a9
    const c18 = d7 * a11 + d8 * a10 + a9 * a9
    const c19 = d8 * a11 + d9 * a10
    const c20 = d9 * a11 + a10 * a10
    const c21 = d10 * a11
    const c22 = a11 * a11
    // Carries without a chain (see the file comment): each column splits on its own.
    const h0 = c0 + ROUND - ROUND
    const h1 = c1 + ROUND - ROUND
    const h2 = c2 + ROUND - ROUND
    const h3 = c3 + ROUND - ROUND
    const h4 = c4 + ROUND - ROUND
    const h5 = c5 + ROUND - ROUND
    const h6 = c6 + ROUND - ROUND
    const h7 = c7 + ROUND - ROUND
    const h8 = c8 + ROUND - ROUND
    const h9 = c9 + ROUND - ROUND
    const h10 = c10 + ROUND - ROUND
    const h11 = c11 + ROUND - ROUND
    const h12 = c12 + ROUND - ROUND
    const h13 = c13 + ROUND - ROUND
    const h14 = c14 + ROUND - ROUND
    const h15 = c15 + ROUND - ROUND
    const h16 = c16 + ROUND - ROUND
    const h17 = c17 + ROUND - ROUND
    const h18 = c18 + ROUND - ROUND
    const h19 = c19 + ROUND - ROUND
    const h20 = c20 + ROUND - ROUND
    const h21 = c21 + ROUND - ROUND
    const h22 = c22 + ROUND - ROUND
    const n0 = c0 - h0
    const n1 = c1 - h1 + h0 * INV_RADIX
    const n2 = c2 - h2 + h1 * INV_RADIX
    const n3 = c3 - h3 + h2 * INV_RADIX
    const n4 = c4 - h4 + h3 * INV_RADIX
    const n5 = c5 - h5 + h4 * INV_RADIX
    const n6 = c6 - h6 + h5 * INV_RADIX
    const n7 = c7 - h7 + h6 * INV_RADIX
    const n8 = c8 - h8 + h7 * INV_RADIX
    const n9 = c9 - h9 + h8 * INV_RADIX
    const n10 = c10 - h10 + h9 * INV_RADIX
    const n11 = c11 - h11 + h10 * INV_RADIX
    const n12 = c12 - h12 + h11 * INV_RADIX
    const n13 = c13 - h13 + h12 * INV_RADIX
    const n14 = c14 - h14 + h13 * INV_RADIX
    const n15 = c15 - h15 + h14 * INV_RADIX
    const n16 = c16 - h16 + h15 * INV_RADIX
    const n17 = c17 - h17 + h16 * INV_RADIX
    const n18 = c18 - h18 + h17 * INV_RADIX
    const n19 = c19 - h19 + h18 * INV_RADIX
    const n20 = c20 - h20 + h19 * INV_RADIX
    const n21 = c21 - h21 + h20 * INV_RADIX
    const n22 = c22 - h22 + h21 * INV_RADIX
    const n23 = h22 * INV_RADIX
    const m0 = n0 + FOLD * n12
    const m1 = n1 + FOLD * n13
    const m2 = n2 + FOLD * n14
    const m3 = n3 + FOLD * n15
    const m4 = n4 + FOLD * n16
    const m5 = n5 + FOLD * n17
    const m6 = n6 + FOLD * n18
    const m7 = n7 + FOLD * n19
    const m8 = n8 + FOLD * n20
    const m9 = n9 + FOLD * n21
    const m10 = n10 + FOLD * n22
    const m11 = n11 + FOLD * n23
    const g0 = m0 + ROUND - ROUND
    const g1 = m1 + ROUND - ROUND
    const g2 = m2 + ROUND - ROUND
    const g3 = m3 + ROUND - ROUND
    const g4 = m4 + ROUND - ROUND
    const g5 = m5 + ROUND - ROUND
    const g6 = m6 + ROUND - ROUND
    const g7 = m7 + ROUND - ROUND
    const g8 = m8 + ROUND - ROUND
    const g9 = m9 + ROUND - ROUND
    const g10 = m10 + ROUND - ROUND
    const g11 = m11 + ROUND - ROUND
    let r0 = m0 - g0 + g11 * (FOLD * INV_RADIX)
    let r1 = m1 - g1 + g0 * INV_RADIX
    const r2 = m2 - g2 + g1 * INV_RADIX
    const r3 = m3 - g3 + g2 * INV_RADIX
    const r4 = m4 - g4 + g3 * INV_RADIX
    const r5 = m5 - g5 + g4 * INV_RADIX
    const r6 = m6 - g6 + g5 * INV_RADIX
    const r7 = m7 - g7 + g6 * INV_RADIX
    const r8 = m8 - g8 + g7 * INV_RADIX
    const r9 = m9 - g9 + g8 * INV_RADIX
    const r10 = m10 - g10 + g9 * INV_RADIX
    const r11 = m11 - g11 + g10 * INV_RADIX
    const t = r0 + ROUND - ROUND
    r0 -= t
    r1 += t * INV_RADIX
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

// 2^0 .. 2^29: the byte weights inside feFromBytesBE48's accumulator (a table, not Math.pow per byte).
const POW2 = Float64Array.from({ length: 30 }, (_, i) => 2 ** i)

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
    acc += bytes[i]! * POW2[bits]!
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
