import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { findStackHelpers } from '../../../crypto/he/_wasm.ts'
import { createHeContext, getHeContext } from '../../../crypto/he/context.ts'
import { generateKeys } from '../../../crypto/he/keys.ts'
import { BFV_8192, CKKS_8192, hePreset } from '../../../crypto/he/presets.ts'
import { getSeal, getSealRuntime, guard, sealHeapBytes } from '../../../crypto/he/runtime.ts'

const code = (c: string) => expect.objectContaining({ code: c })

describe('runtime', () => {
  it('loads one SEAL module per process and restores WebAssembly.instantiate', async () => {
    const [a, b] = await Promise.all([getSeal(), getSeal()])
    expect(a).toBe(b)
    expect(await getSeal()).toBe(a)
    const wasm = (globalThis as unknown as { WebAssembly: { instantiate: { name: string } } }).WebAssembly
    expect(wasm.instantiate.name).not.toBe('instantiateAndWatch')
    expect(sealHeapBytes()).toBeGreaterThanOrEqual(16 * 1024 * 1024)
  })

  it('finds the shadow-stack helpers of the node-seal binary by their code', () => {
    const url = new URL('./seal_throws.wasm', import.meta.resolve('node-seal/throws'))
    const bytes = new Uint8Array(readFileSync(fileURLToPath(url)))
    const names = findStackHelpers(bytes)
    expect(names).toEqual({ getCurrent: expect.any(String), restore: expect.any(String) })
    expect(names!.getCurrent).not.toBe(names!.restore)
    // A truncated binary is refused rather than half-read.
    expect(findStackHelpers(bytes.subarray(0, 5000))).toBeUndefined()
    expect(findStackHelpers(new Uint8Array(100))).toBeUndefined()
    // A minimal module with no exports.
    expect(findStackHelpers(Uint8Array.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]))).toBeUndefined()
  })

  it('guard turns a C++ exception into a typed error and restores the stack pointer', async () => {
    const rt = await getSealRuntime()
    const sp = rt.stackGet()
    let caught: unknown
    try {
      guard(rt, () => new rt.seal.Modulus(1n))
    } catch (err) {
      caught = err
    }
    expect(caught).toMatchObject({ code: 'COHORT_HE_SEAL_FAILURE', name: 'HeSealError' })
    expect((caught as Error).message).toMatch(/cannot be 1/)
    expect(rt.stackGet()).toBe(sp)
    expect(() =>
      guard(
        rt,
        () => new rt.seal.Modulus(1n),
        (m) => new RangeError(m)
      )
    ).toThrow(RangeError)
    expect(() =>
      guard(rt, () => {
        throw new TypeError('plain JS')
      })
    ).toThrow(TypeError)
    expect(rt.stackGet()).toBe(sp)
  })
})

describe('presets and contexts', () => {
  it('looks presets up by id and refuses unknown ids', () => {
    expect(hePreset('bfv-8192')).toBe(BFV_8192)
    expect(hePreset('ckks-8192')).toBe(CKKS_8192)
    expect(() => hePreset('bfv-4096')).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
    expect(() => hePreset('toString')).toThrow(code('COHORT_CRYPTO_ARGUMENT'))
  })

  it('fingerprints the parameters: equal for equal presets, different across presets', async () => {
    using a = await createHeContext('bfv-8192')
    using b = await createHeContext(BFV_8192)
    const c = await getHeContext('ckks-8192')
    expect(a.fingerprint).toMatch(/^[0-9a-f]{64}$/)
    expect(b.fingerprint).toBe(a.fingerprint)
    expect(c.fingerprint).not.toBe(a.fingerprint)
    expect(() => a.assertCompatible(b, 'x')).not.toThrow()
    expect(() => a.assertCompatible(c, 'x')).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
    // 128-bit security: BFVDefault(8192) is 218 bits, the CKKS chain 200 bits (key prime included).
    expect(a.coeffModuli.reduce((s, q) => s + q.toString(2).length, 0)).toBe(174)
    // Data levels 4, 3, 2 primes: one 43-bit prime could not hold the 50-bit plain modulus.
    expect(a.dataParmsIds).toHaveLength(3)
  })

  it('shares one context per preset; dispose() of a shared context is a no-op', async () => {
    const a = await getHeContext('ckks-8192')
    expect(await getHeContext('ckks-8192')).toBe(a)
    a.dispose()
    expect(a.disposed).toBe(false)
    using keys = generateKeys(a)
    expect(keys.publicKey.disposed).toBe(false)
  })

  it('refuses use of an owned context after dispose()', async () => {
    const ctx = await createHeContext('bfv-8192')
    ctx.dispose()
    ctx.dispose()
    expect(ctx.disposed).toBe(true)
    expect(() => ctx.native).toThrow(code('COHORT_HE_DISPOSED'))
    expect(() => generateKeys(ctx)).toThrow(code('COHORT_HE_DISPOSED'))
  })

  it('wrong scheme accessors say so', async () => {
    const ckks = await getHeContext('ckks-8192')
    expect(() => ckks.batchEncoder).toThrow(code('COHORT_HE_PARAMETER_MISMATCH'))
  })
})
