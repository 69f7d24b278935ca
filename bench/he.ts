/**
 * `npm run bench -- he [--json] [--reps 20]`: homomorphic-encryption costs per 8192 slots
 * (BFV: one ciphertext; CKKS: two ciphertexts of 4096 slots) and serialized sizes.
 */
import { flag, report } from './_report.ts'
import { heFigures } from './parts/he.ts'

export async function main(argv: string[]): Promise<void> {
  const reps = Number(flag(argv, 'reps', '20'))
  report('he', await heFigures({ reps }), argv)
}
