/**
 * HE figures shared by `bench/he.ts` and `bench/crypto.ts`: BFV and CKKS encrypt / add / decrypt
 * milliseconds per 8192 slots (one BFV ciphertext, two CKKS ciphertexts of 4096 slots) and the
 * serialized (zstd) bytes for 8192 slots. Medians over `reps` runs after one warm-up.
 */
import { bfvAdd, bfvDecryptVector, bfvEncryptVector } from '../../crypto/he/bfv.ts'
import {
  ckksAdd,
  ckksDecryptVector,
  ckksEncryptVector,
  ckksMultiplyPlain,
  ckksRotateSum
} from '../../crypto/he/ckks.ts'
import { createHeContext } from '../../crypto/he/context.ts'
import { generateKeys } from '../../crypto/he/keys.ts'
import { saveCiphertext, saveVector } from '../../crypto/he/serialize.ts'

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** Median wall time (ms) of `fn` over `reps` runs, after one warm-up run. */
function timeMs(reps: number, fn: () => void): number {
  fn()
  const times: number[] = []
  for (let r = 0; r < reps; r++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  return median(times)
}

/**
 * Measures the HE figures (takes a few seconds: two contexts, key generation, `reps` runs per figure).
 *
 * @example
 * const figures = await heFigures() // { 'he.bfv.encrypt_ms': 9.1, ... }
 */
export async function heFigures(options: { reps?: number } = {}): Promise<Record<string, number>> {
  const reps = options.reps ?? 20
  const figures: Record<string, number> = {}

  let t = performance.now()
  using bfv = await createHeContext('bfv-8192')
  figures['he.bfv.context_ms'] = performance.now() - t
  t = performance.now()
  using bk = generateKeys(bfv)
  figures['he.bfv.keygen_ms'] = performance.now() - t
  const ints = Array.from({ length: 8192 }, (_, i) => (i % 2001) - 1000)
  figures['he.bfv.encrypt_ms'] = timeMs(reps, () => bfvEncryptVector(bk.publicKey, ints).dispose())
  {
    using a = bfvEncryptVector(bk.publicKey, ints)
    using b = bfvEncryptVector(bk.publicKey, ints)
    figures['he.bfv.add_ms'] = timeMs(reps, () => bfvAdd(a, b).dispose())
    figures['he.bfv.decrypt_ms'] = timeMs(reps, () => {
      bfvDecryptVector(bk.secretKey, a)
    })
    figures['he.bfv.serialize_ms'] = timeMs(reps, () => {
      saveCiphertext(a.chunks[0]!)
    })
    figures['he.bfv.ciphertext_bytes'] = saveCiphertext(a.chunks[0]!).length
  }

  t = performance.now()
  using ckks = await createHeContext('ckks-8192')
  figures['he.ckks.context_ms'] = performance.now() - t
  t = performance.now()
  using ck = generateKeys(ckks, { galois: true })
  figures['he.ckks.keygen_galois_ms'] = performance.now() - t
  const reals = Array.from({ length: 8192 }, (_, i) => Math.sin(i))
  figures['he.ckks.encrypt_ms'] = timeMs(reps, () => ckksEncryptVector(ck.publicKey, reals).dispose())
  {
    using a = ckksEncryptVector(ck.publicKey, reals)
    using b = ckksEncryptVector(ck.publicKey, reals)
    figures['he.ckks.add_ms'] = timeMs(reps, () => ckksAdd(a, b).dispose())
    figures['he.ckks.decrypt_ms'] = timeMs(reps, () => {
      ckksDecryptVector(ck.secretKey, a)
    })
    figures['he.ckks.multiply_plain_ms'] = timeMs(reps, () => ckksMultiplyPlain(a, reals).dispose())
    figures['he.ckks.rotate_sum_ms'] = timeMs(Math.max(3, Math.floor(reps / 4)), () =>
      ckksRotateSum(a, ck.galoisKeys!).dispose()
    )
    figures['he.ckks.ciphertext_bytes'] = saveVector(a).chunks.reduce((n, c) => n + c.length, 0)
  }
  return figures
}
