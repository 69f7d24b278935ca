/**
 * Encrypted vector × plaintext matrix for CKKS: given a ciphertext holding r (rows ≤ slots, one
 * value per slot) and a plaintext X (rows × cols, row-major), a ciphertext whose slots 0..cols-1 hold
 * (Xᵀ r)_j = Σ_i X[i][j]·r[i]. This is the gradient step of vertical logistic regression.
 *
 * Method: Halevi–Shoup hybrid diagonals (CRYPTO 2014, "Algorithms in HElib") with baby-step/giant-step
 * (Halevi–Shoup 2018, "Faster homomorphic linear transformations in HElib"). With S slots and the
 * column count padded to a power of two d', diagonal k is D_k[i] = X[(i+k) mod S][i mod d'] (rows ≥
 * rows and columns ≥ cols are zero). Then z = Σ_{k<d'} D_k ⊙ rot(r, k) covers every (row, column)
 * pair once, and folding z with rotations by d', 2d', …, S/2 leaves (Xᵀ r)_j in slot j. Writing
 * k = a + g·b, z = Σ_b rot(Σ_a rot(D_{a+gb}, −gb) ⊙ rot(r, a), gb): g−1 baby rotations of r, d'/g−1
 * giant rotations, log2(S/d') fold rotations and d' plaintext products. Products are accumulated at
 * scale Δ² and rescaled once (one level), which is much cheaper than rescaling every product.
 * Column counts over S are split into blocks of S columns (one output ciphertext each).
 *
 * Galois keys: only the steps of {@link matvecGaloisSteps}; several key objects may be passed (a
 * serialized Galois key object is capped at rotateSumSteps().length steps by the load limits, so
 * {@link generateMatvecGaloisKeys} splits larger sets).
 */
import type { Ciphertext, Plaintext } from 'node-seal/throws'
import { CryptoArgumentError } from '../errors.ts'
import { buildVector, newCiphertext } from './ciphertext.ts'
import type { CkksVector } from './ciphertext.ts'
import type { HeContext } from './context.ts'
import { disposeAll } from './dispose.ts'
import { evaluatorError, HeLevelExhaustedError, HeParameterMismatchError } from './errors.ts'
import type { HePublicKey, HeSecretKey } from './keys.ts'
import { HeGaloisKeys, rotateSumSteps } from './keys.ts'

const CKKS_8192_SLOTS = 4096

function nextPow2(n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/** Baby-step count g for a padded width d' = 2^k: 2^ceil(k/2). */
function babySteps(paddedCols: number): number {
  return 2 ** Math.ceil(Math.log2(paddedCols) / 2)
}

/** One output block: columns [col0, col0 + width) computed with width padded to `padded` (a power of two). */
export interface MatvecBlock {
  readonly col0: number
  readonly width: number
  readonly padded: number
}

// Relative costs measured at the matvec level (encode + multiplyPlain ≈ 1, one rotation ≈ 3, one more
// output ciphertext — decrypt, mask, wire — ≈ 4): they only steer the block split below.
const ROTATION_COST = 3
const CIPHERTEXT_COST = 4

function blockCost(padded: number, slots: number): number {
  const g = babySteps(padded)
  return padded + ROTATION_COST * (g - 1 + padded / g - 1 + Math.log2(slots / padded)) + CIPHERTEXT_COST
}

/**
 * How {@link ckksMatvec} splits `cols` columns: full blocks of `slots` columns, then the rest as a
 * few power-of-two blocks in decreasing size (300 → 256 + 64 instead of one padded 512: 320 plaintext
 * products instead of 512). Deterministic, so every party derives the same layout from `cols`.
 *
 * @example
 * matvecBlocks(300) // [{ col0: 0, width: 256, padded: 256 }, { col0: 256, width: 44, padded: 64 }]
 */
export function matvecBlocks(cols: number, slots = CKKS_8192_SLOTS): MatvecBlock[] {
  checkShape(cols, slots)
  const out: MatvecBlock[] = []
  let col0 = 0
  for (; cols - col0 >= slots; col0 += slots) out.push({ col0, width: slots, padded: slots })
  const rest = cols - col0
  if (rest === 0) return out
  // best[w]: cheapest split of w columns into decreasing power-of-two blocks; first[w]: its first block.
  const best = new Float64Array(rest + 1)
  const first = new Uint32Array(rest + 1)
  for (let w = 1; w <= rest; w++) {
    best[w] = Number.POSITIVE_INFINITY
    for (let p = nextPow2(w); p >= 1; p /= 2) {
      const c = blockCost(p, slots) + best[Math.max(0, w - p)]!
      if (c < best[w]!) {
        best[w] = c
        first[w] = p
      }
    }
  }
  for (let w = rest; w > 0; ) {
    const p = first[w]!
    out.push({ col0, width: Math.min(p, w), padded: p })
    col0 += Math.min(p, w)
    w -= Math.min(p, w)
  }
  return out
}

function checkShape(cols: number, slots: number): void {
  if (!Number.isSafeInteger(cols) || cols < 1)
    throw new CryptoArgumentError(`cols must be a positive integer, got ${String(cols)}`)
  if (!Number.isSafeInteger(slots) || slots < 2 || nextPow2(slots) !== slots)
    throw new CryptoArgumentError(`slots must be a power of two >= 2, got ${String(slots)}`)
}

/**
 * Values of a decrypted product: chunk k of the product holds block k's columns in its first slots.
 *
 * @param decrypted - the product decrypted (ckksDecryptVector), blocks × slots values
 * @example
 * const grad = matvecAssemble(300, ckksDecryptVector(secretKey, product))
 */
export function matvecAssemble(
  cols: number,
  decrypted: ArrayLike<number>,
  slots = CKKS_8192_SLOTS
): Float64Array {
  const blocks = matvecBlocks(cols, slots)
  if (decrypted.length !== blocks.length * slots)
    throw new CryptoArgumentError(
      `a product of ${cols} columns has ${blocks.length * slots} slots, got ${decrypted.length}`
    )
  const out = new Float64Array(cols)
  blocks.forEach((b, k) => {
    for (let j = 0; j < b.width; j++) out[b.col0 + j] = decrypted[k * slots + j]!
  })
  return out
}

/**
 * Rotation steps a product with `cols` columns needs (sorted, positive), for `slots` slots.
 *
 * @throws CryptoArgumentError for a non-positive or non-integer column count
 * @example
 * matvecGaloisSteps(300) // [1..31 baby, 32..480 giant, 512, 1024, 2048 fold] — 49 steps
 */
export function matvecGaloisSteps(cols: number, slots = CKKS_8192_SLOTS): number[] {
  const steps = new Set<number>()
  for (const { padded } of matvecBlocks(cols, slots)) {
    const g = babySteps(padded)
    for (let a = 1; a < g; a++) steps.add(a)
    for (let b = 1; b < padded / g; b++) steps.add(b * g)
    for (let s = padded; s < slots; s *= 2) steps.add(s)
  }
  return [...steps].sort((x, y) => x - y)
}

/** SEAL 4 Galois element of a left rotation by `step` (generator 3, modulo 2N). */
function galoisElement(step: number, n: number): number {
  const m = 2 * n
  const e = step > 0 ? step : n / 2 + step
  let elt = 1
  for (let i = 0; i < e; i++) elt = (elt * 3) % m
  return elt
}

/**
 * Generates Galois keys for `steps` under an existing secret key, split into objects of at most
 * `perObject` steps (default: what one serialized Galois key object may hold under the context's
 * load limits). The caller owns the keys.
 *
 * @throws CryptoArgumentError for an empty list or a step out of ±[1, slots-1]
 * @example
 * const keys = generateMatvecGaloisKeys(secretKey, matvecGaloisSteps(300))
 */
export function generateMatvecGaloisKeys(
  secretKey: HeSecretKey,
  steps: readonly number[],
  perObject?: number
): HeGaloisKeys[] {
  const ctx = secretKey.context
  const per = perObject ?? rotateSumSteps(ctx).length
  if (!Array.isArray(steps) || steps.length === 0)
    throw new CryptoArgumentError('steps must be a non-empty array')
  if (!Number.isSafeInteger(per) || per < 1) throw new CryptoArgumentError('perObject must be >= 1')
  const half = ctx.preset.polyModulusDegree / 2
  for (const s of steps) {
    if (!Number.isSafeInteger(s) || s === 0 || Math.abs(s) >= half)
      throw new CryptoArgumentError(`rotation step must be in ±[1, ${half - 1}], got ${String(s)}`)
  }
  const out: HeGaloisKeys[] = []
  try {
    ctx.guard(() => {
      using kg = new ctx.seal.KeyGenerator(ctx.native, secretKey.handle)
      for (let i = 0; i < steps.length; i += per) {
        const group = Int32Array.from(steps.slice(i, i + per))
        out.push(new HeGaloisKeys(ctx, kg.createGaloisKeysWithSteps(group)))
      }
    })
  } catch (err) {
    disposeAll(out)
    throw err
  }
  return out
}

/** Options of {@link ckksMatvec}. */
export interface CkksMatvecOptions {
  /** Encrypts the zero result when X is all zeros (a plaintext product with zeros is refused). */
  publicKey?: HePublicKey
}

type KeyLookup = (step: number) => HeGaloisKeys

function keyLookup(ctx: HeContext, keys: HeGaloisKeys | readonly HeGaloisKeys[]): KeyLookup {
  const list = Array.isArray(keys) ? (keys as readonly HeGaloisKeys[]) : [keys as HeGaloisKeys]
  if (list.length === 0) throw new CryptoArgumentError('at least one Galois key object is needed')
  for (const k of list) k.context.assertCompatible(ctx, 'Galois keys and ciphertext')
  const n = ctx.preset.polyModulusDegree
  const cache = new Map<number, HeGaloisKeys>()
  return (step) => {
    let found = cache.get(step)
    if (found === undefined) {
      const elt = galoisElement(step, n)
      found = list.find((k) => k.handle.hasKey(elt))
      if (found === undefined)
        throw new HeParameterMismatchError(`no Galois key for rotation step ${step} (see matvecGaloisSteps)`)
      cache.set(step, found)
    }
    return found
  }
}

function checkMatrix(x: ArrayLike<number>, rows: number, cols: number, slots: number, maxAbs: number) {
  if (!Number.isSafeInteger(rows) || rows < 1 || rows > slots)
    throw new CryptoArgumentError(`rows must be an integer in [1, ${slots}], got ${String(rows)}`)
  if (!Number.isSafeInteger(cols) || cols < 1)
    throw new CryptoArgumentError(`cols must be a positive integer, got ${String(cols)}`)
  if (x?.length !== rows * cols)
    throw new CryptoArgumentError(`matrix must hold rows·cols = ${rows * cols} values, got ${x?.length}`)
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > maxAbs)
      throw new CryptoArgumentError(`matrix[${i}] must be finite with |v| <= ${maxAbs}, got ${String(v)}`)
  }
}

/**
 * Encrypted r times plaintext X: Xᵀ r as one ciphertext per column block of {@link matvecBlocks}
 * (decrypt, then {@link matvecAssemble}). The input is first switched down to the lowest level that
 * still allows one rescale (cheaper products and rotations); the result is at the last data level.
 * Slots of r at index ≥ rows are ignored. Every partial sum Σ_i |X[i][j]·r[i]| must stay below the
 * preset's value bound (2^18): scale X (e.g. by 1/rows) when it could not.
 *
 * @param vector - one ciphertext (length ≤ slots) with a level left for one rescale
 * @param x - rows × cols, row-major, finite, |v| ≤ the preset's value bound
 * @param galoisKeys - keys covering matvecGaloisSteps(cols) (one object or several)
 * @throws CryptoArgumentError for a bad shape or value; HeParameterMismatchError for a missing key or
 *   other parameters; HeLevelExhaustedError when no level is left
 * @example
 * using grad = ckksMatvec(encResidual, xBatch, batchRows, features, galoisKeys)
 * const g = matvecAssemble(features, ckksDecryptVector(secretKey, grad))
 */
export function ckksMatvec(
  vector: CkksVector,
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  galoisKeys: HeGaloisKeys | readonly HeGaloisKeys[],
  options: CkksMatvecOptions = {}
): CkksVector {
  const ctx = vector.context
  if (ctx.preset.scheme !== 'ckks') throw new HeParameterMismatchError(`${ctx.preset.id} is not CKKS`)
  const slots = ctx.slotCount
  if (vector.chunks.length !== 1)
    throw new HeParameterMismatchError(`matvec needs one ciphertext (≤ ${slots} rows), got a longer vector`)
  checkMatrix(x, rows, cols, slots, ctx.preset.maxAbsValue)
  const input = vector.chunks[0]!
  const level = ctx.dataLevel(input.parmsId())
  const target = ctx.dataParmsIds.length - 2
  if (level < 0 || level > target) throw new HeLevelExhaustedError()
  const keyFor = keyLookup(ctx, galoisKeys)
  const blocks = matvecBlocks(cols, slots)
  return ctx.guard(() => {
    const r = input.handle.copy()
    const baby = new Map<number, Ciphertext>()
    try {
      for (let l = level; l < target; l++) ctx.evaluator.cipherModSwitchToNextInplace(r)
      return buildVector('ckks', ctx, blocks.length * slots, blocks.length, (k) =>
        matvecBlock(ctx, r, x, rows, cols, blocks[k]!, keyFor, baby, options)
      )
    } finally {
      for (const ct of baby.values()) ct.delete()
      r.delete()
    }
  }, evaluatorError)
}

/** One column block. `baby` caches rot(r, a) across blocks. */
function matvecBlock(
  ctx: HeContext,
  r: Ciphertext,
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  block: MatvecBlock,
  keyFor: KeyLookup,
  baby: Map<number, Ciphertext>,
  options: CkksMatvecOptions
): Ciphertext {
  const slots = ctx.slotCount
  const ev = ctx.evaluator
  const { padded } = block
  const g = babySteps(padded)
  const rotated = (a: number): Ciphertext => {
    if (a === 0) return r
    let ct = baby.get(a)
    if (ct === undefined) {
      ct = newCiphertext(ctx, (out) => ev.rotateVector(r, a, keyFor(a).handle, out))
      baby.set(a, ct)
    }
    return ct
  }
  using pid = r.parmsId()
  const diag = new Float64Array(slots)
  let total: Ciphertext | undefined
  try {
    for (let b = 0; b < padded / g; b++) {
      const shift = g * b
      let inner: Ciphertext | undefined
      try {
        for (let a = 0; a < g; a++) {
          if (!fillDiagonal(diag, x, rows, cols, block, a, shift)) continue
          using pt: Plaintext = new ctx.seal.Plaintext()
          ctx.ckksEncoder.encode(diag, ctx.scale, pt)
          // values below the encoding precision round to an all-zero plaintext: a transparent product
          if (pt.isZero()) continue
          ev.plainModSwitchToInplace(pt, pid)
          if (inner === undefined) inner = newCiphertext(ctx, (out) => ev.multiplyPlain(rotated(a), pt, out))
          else {
            using prod = new ctx.seal.Ciphertext()
            ev.multiplyPlain(rotated(a), pt, prod)
            ev.addInplace(inner, prod)
          }
        }
        if (inner === undefined) continue
        if (shift !== 0) ev.rotateVectorInplace(inner, shift, keyFor(shift).handle)
        if (total === undefined) {
          total = inner
          inner = undefined
        } else ev.addInplace(total, inner)
      } finally {
        inner?.delete()
      }
    }
    if (total === undefined) return zeroProduct(ctx, r, options)
    ev.rescaleToNextInplace(total)
    for (let s = padded; s < slots; s *= 2) {
      using folded = new ctx.seal.Ciphertext()
      ev.rotateVector(total, s, keyFor(s).handle, folded)
      ev.addInplace(total, folded)
    }
    return total
  } catch (err) {
    total?.delete()
    throw err
  }
}

/**
 * Fills the pre-rotated diagonal D'_{a,b}[i] = X[(i+a) mod S][col0 + ((i − shift) mod d')]; returns
 * false when it is all zeros (its product would be a transparent ciphertext).
 */
function fillDiagonal(
  diag: Float64Array,
  x: ArrayLike<number>,
  rows: number,
  cols: number,
  block: MatvecBlock,
  a: number,
  shift: number
): boolean {
  const slots = diag.length
  const { col0, width, padded } = block
  diag.fill(0)
  let any = false
  const mask = padded - 1
  for (let i = 0; i < slots; i++) {
    const row = (i + a) & (slots - 1)
    if (row >= rows) continue
    const c = (i - shift) & mask
    if (c >= width) continue
    const v = x[row * cols + col0 + c]!
    if (v !== 0) {
      diag[i] = v
      any = true
    }
  }
  return any
}

/** A fresh encryption of zero at the level and scale the block's product would have. */
function zeroProduct(ctx: HeContext, like: Ciphertext, options: CkksMatvecOptions): Ciphertext {
  const pk = options.publicKey
  if (pk === undefined)
    throw new HeParameterMismatchError(
      'the matrix block is all zeros: pass options.publicKey to encrypt zero'
    )
  pk.context.assertCompatible(ctx, 'public key and ciphertext')
  using pid = like.parmsId()
  const level = ctx.dataLevel(BigUint64Array.from(pid.values() as BigUint64Array))
  const q = Number(ctx.coeffModuli[ctx.coeffModuli.length - 1 - level]!)
  const scale = like.scale()
  using data = ctx.native.getContextData(pid)
  using next = data.nextContextData()
  using nextId = next.parmsId()
  return newCiphertext(ctx, (out) => {
    pk.encryptor.encryptZero(out)
    ctx.evaluator.cipherModSwitchToInplace(out, nextId)
    out.setScale((scale * ctx.scale) / q)
  })
}
