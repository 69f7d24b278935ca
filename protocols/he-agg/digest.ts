/**
 * Linear digests of BFV ciphertexts: how the key-holder checks that the ciphertext it is asked to
 * decrypt is the sum of the signed contributions WITHOUT seeing any of them (README.md, "Checking
 * the sum").
 *
 * A BFV ciphertext is a pair of polynomials (c0, c1) in R_Q, stored in RNS form: for each prime q_j
 * of the coefficient modulus, 2·N residues mod q_j. Homomorphic addition adds residues mod q_j, so any
 * linear functional L(c) = Σ r_t·c_t mod q_j is additive: L(Σ c_i) ≡ Σ L(c_i) (mod q_j).
 *
 * Soundness (Schwartz–Zippel for a linear form): if S ≠ Σ c_i there is a prime q_j and a coefficient
 * t with Δ_t = (S - Σ c_i)_t ≢ 0; for r drawn uniformly from [0, 2^16)^(2N) independently of Δ,
 * Pr[L_r(Δ) ≡ 0] <= 2^-16, so with DIGEST_FUNCTIONALS = 8 independent functionals per prime a false
 * sum passes with probability <= 2^-128. r is derived from a seed that hashes the sum itself and
 * every contributor's ciphertext hash (Fiat–Shamir, ./transcript.ts), so the coordinator cannot pick
 * S after seeing r: each new S means a new r.
 *
 * Privacy: L_r(c_i) = <r0, Δm_i + e_i> + <r1 - S^T r0, c1> with c1 pseudorandom under RLWE (c1 =
 * pk1·u + e2); eight functionals with linearly independent masks are jointly uniform, so the digests
 * say nothing about m_i to the key-holder, who knows s but cannot choose r (it is a hash).
 *
 * Arithmetic: residues are < 2^44. Each is split as hi·2^22 + lo with hi, lo < 2^22; with r < 2^16,
 * a sum of 2N = 16,384 products of either half is < 2^52, exact in a double. The two sums are
 * reduced and recombined with BigInt once per functional.
 */
import { sha256 } from '../../crypto/hash.ts'
import { prgExpand } from '../../crypto/prg.ts'
import type { HeCiphertext } from '../../crypto/he/ciphertext.ts'
import type { BfvVector } from '../../crypto/he/index.ts'
import { HeAggParamsError } from './errors.ts'

/**
 * Functionals per RNS prime (soundness 2^-16 each).
 * @example
 * vectorDigest(v, seed).length === v.chunks.length * ctx.coeffModuli.length * DIGEST_FUNCTIONALS
 */
export const DIGEST_FUNCTIONALS = 8

const HEADER = 16 // SEALHeader
const CT_META = 73 // parms_id(32) is_ntt(1) size(8) N(8) k(8) scale(8) correction(8)
const DYN_HEADER = 16 + 8 // DynArray: its own SEALHeader, then u64 count

/**
 * The RNS residues of one ciphertext as u32 word pairs, read from SEAL's uncompressed serialization
 * (layout checked: magic, size 2, N, k, element count), index ((poly·k + j)·N + i).
 */
function residues(ct: HeCiphertext): { words: Uint32Array; n: number; k: number } {
  const ctx = ct.context
  const raw = ctx.guard(() => ct.handle.saveToArray(ctx.seal.ComprModeType.none) as Uint8Array)
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength)
  const size = Number(view.getBigUint64(HEADER + 33, true))
  const n = Number(view.getBigUint64(HEADER + 41, true))
  const k = Number(view.getBigUint64(HEADER + 49, true))
  const at = HEADER + CT_META
  const count = Number(view.getBigUint64(at + 16, true))
  if (
    view.getUint16(0, true) !== 0xa15e ||
    view.getUint16(at, true) !== 0xa15e ||
    size !== 2 ||
    n !== ctx.preset.polyModulusDegree ||
    k < 1 ||
    k > ctx.coeffModuli.length ||
    count !== 2 * k * n ||
    raw.length !== at + DYN_HEADER + count * 8
  ) {
    throw new HeAggParamsError('unexpected SEAL ciphertext layout: cannot digest it')
  }
  // Copy into an aligned buffer so the residues can be read as u32 words.
  const bytes = raw.slice(at + DYN_HEADER)
  return { words: new Uint32Array(bytes.buffer, bytes.byteOffset, count * 2), n, k }
}

/** Per-chunk PRG seed: SHA-256 over the label, the challenge seed and the chunk index. */
function chunkSeed(seed: Uint8Array, chunk: number): Uint8Array {
  const label = new TextEncoder().encode('cohort/he-agg/digest-r/v1')
  const buf = new Uint8Array(label.length + seed.length + 4)
  buf.set(label)
  buf.set(seed, label.length)
  new DataView(buf.buffer).setUint32(label.length + seed.length, chunk, false)
  return sha256(buf)
}

/**
 * Digest of one ciphertext: for each prime j and functional f, Σ_t r[j][t][f]·c[j][t] mod q_j over
 * the 2N residues t of both polynomials. Returns k·F values (j-major), each < q_j < 2^53.
 */
function ciphertextDigest(ct: HeCiphertext, seed: Uint8Array, chunk: number): number[] {
  const { words, n, k } = residues(ct)
  const moduli = ct.context.coeffModuli
  const F = DIGEST_FUNCTIONALS
  const r = prgExpand(chunkSeed(seed, chunk), k * 2 * n * F, { k: 16 }) as Uint32Array // k <= 32: u32 words
  const out: number[] = []
  const lo = new Float64Array(F)
  const hi = new Float64Array(F)
  for (let j = 0; j < k; j++) {
    lo.fill(0)
    hi.fill(0)
    let ri = j * 2 * n * F
    for (let p = 0; p < 2; p++) {
      const base = (p * k + j) * n
      for (let i = 0; i < n; i++) {
        const w = 2 * (base + i)
        const l32 = words[w]!
        const h32 = words[w + 1]!
        const l = l32 & 0x3fffff
        const h = h32 * 1024 + (l32 >>> 22)
        for (let f = 0; f < F; f++) {
          const rv = r[ri++]!
          lo[f] = lo[f]! + rv * l
          hi[f] = hi[f]! + rv * h
        }
      }
    }
    const q = moduli[j]!
    for (let f = 0; f < F; f++) {
      const v = ((BigInt(hi[f]!) % q) * (1n << 22n) + BigInt(lo[f]!)) % q
      out.push(Number(v))
    }
  }
  return out
}

/**
 * Digest of an encrypted vector under challenge `seed`: chunks × k × DIGEST_FUNCTIONALS residues.
 *
 * @example
 * const d = vectorDigest(ciphertext, seed) // what a node signs in the challenge phase
 */
export function vectorDigest(vector: BfvVector, seed: Uint8Array): number[] {
  const out: number[] = []
  vector.chunks.forEach((ct, c) => {
    for (const v of ciphertextDigest(ct, seed, c)) out.push(v)
  })
  return out
}

/**
 * Σ digests (mod the prime of each position) equals `target`: the check the key-holder runs.
 *
 * @param moduli - the context's coefficient moduli (ciphertext level 0)
 * @example
 * if (!digestsSumTo(contributions.map((c) => c.digest), vectorDigest(sum, seed), ctx.coeffModuli)) refuse()
 */
export function digestsSumTo(
  digests: readonly (readonly number[])[],
  target: readonly number[],
  moduli: readonly bigint[]
): boolean {
  const F = DIGEST_FUNCTIONALS
  const per = moduli.length * F
  if (target.length === 0 || target.length % per !== 0) return false
  for (const d of digests) if (d.length !== target.length) return false
  let ok = true
  for (let t = 0; t < target.length; t++) {
    const q = moduli[Math.floor((t % per) / F)]!
    let acc = 0n
    for (const d of digests) acc += BigInt(d[t]!)
    if (acc % q !== BigInt(target[t]!) % q) ok = false
  }
  return ok
}
