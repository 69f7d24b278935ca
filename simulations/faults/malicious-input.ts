import type { RingVector } from '../../crypto/ring.ts'
import type { InputStash } from '../../node/jobs/input-stash.ts'
import { floats, simRandom } from '../rng.ts'
import type { MaliciousPlan } from './fault-plan.ts'

/**
 * A malicious party: its node runs the honest code, but the fit summand it hands to secure
 * aggregation is replaced between the training participant and the SecAgg (or HE) participant, as a
 * compromised node would. The update part (everything but the last, weight, coordinate) is scaled
 * by an integer factor, or replaced by a random direction of L2 norm `norm` per unit of weight, so
 * its effect on the averaged model is the same under sample and uniform weighting.
 */

/**
 * Replaces the update coordinates of a fixed-point summand.
 *
 * @example
 * const bad = poisonRing(ring, { kind: 'scale', factor: 100, norm: 1, rounds: undefined }, { k: 62, scale: 2 ** 24 }, rng)
 */
export function poisonRing(
  v: RingVector,
  m: MaliciousPlan,
  quant: { k: number; scale: number },
  seed: string
): RingVector {
  const d = v.length - 1
  const k = quant.k
  const out = v.slice() as RingVector
  if (m.kind === 'scale') {
    if (out instanceof BigUint64Array) {
      const f = BigInt(m.factor)
      for (let i = 0; i < d; i++) out[i] = BigInt.asUintN(k, BigInt.asIntN(k, out[i]!) * f)
    } else {
      const mod = 2 ** k
      const half = 2 ** (k - 1)
      for (let i = 0; i < d; i++) {
        const x = out[i]! >= half ? out[i]! - mod : out[i]!
        out[i] = (((x * m.factor) % mod) + mod) % mod
      }
    }
    return out
  }
  // Random: weight w (the last coordinate) times a direction of norm `norm`.
  const signed = (x: number | bigint) =>
    typeof x === 'bigint' ? Number(BigInt.asIntN(k, x)) : x >= 2 ** (k - 1) ? x - 2 ** k : x
  const w = Math.max(1, signed(v[d]!) / quant.scale)
  const f = floats(simRandom(seed))
  const g = Array.from({ length: d }, () => f.normal())
  const n = Math.sqrt(g.reduce((a, b) => a + b * b, 0)) || 1
  for (let i = 0; i < d; i++) {
    const q = Math.round((g[i]! / n) * m.norm * w * quant.scale)
    if (out instanceof BigUint64Array) out[i] = BigInt.asUintN(k, BigInt(q))
    else out[i] = ((q % 2 ** k) + 2 ** k) % 2 ** k
  }
  return out
}

/**
 * The same for a plaintext summand (`secureAggregation: none`, where the vector travels in the reply).
 *
 * @example
 * const bad = poisonPlain(summand, plan, 'seed/party/3')
 */
export function poisonPlain(v: Float64Array, m: MaliciousPlan, seed: string): Float64Array {
  const d = v.length - 1
  const out = v.slice()
  if (m.kind === 'scale') {
    for (let i = 0; i < d; i++) out[i] = out[i]! * m.factor
    return out
  }
  const f = floats(simRandom(seed))
  const g = Array.from({ length: d }, () => f.normal())
  const n = Math.sqrt(g.reduce((a, b) => a + b * b, 0)) || 1
  const w = Math.max(1, v[d]!)
  for (let i = 0; i < d; i++) out[i] = (g[i]! / n) * m.norm * w
  return out
}

/**
 * Wraps a node's input stash so that fit summands of the malicious rounds are poisoned before the
 * SecAgg/HE participant takes them. `onPoison` is told each time (for the report).
 *
 * @example
 * const stash = maliciousStash(createInputStash(), plan, quant, 'seed/party-03', (round) => log(round))
 */
export function maliciousStash(
  stash: InputStash,
  m: MaliciousPlan,
  quant: { k: number; scale: number },
  seed: string,
  onPoison: (round: number) => void
): InputStash {
  return {
    ...stash,
    put(id, round, vector) {
      const isFit = id.split('/').at(-2) === 'fit'
      if (isFit && (m.rounds === undefined || m.rounds.has(round))) {
        onPoison(round)
        stash.put(id, round, poisonRing(vector, m, quant, `${seed}/${round}`))
      } else stash.put(id, round, vector)
    },
    take: (id, round) => stash.take(id, round),
    has: (id, round) => stash.has(id, round),
    dropJob: (jobId) => stash.dropJob(jobId),
    size: () => stash.size(),
    setHeJob: (id, c) => stash.setHeJob(id, c)
  }
}
