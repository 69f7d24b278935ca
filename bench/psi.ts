/**
 * `npm run bench -- psi [--n 100000] [--million] [--overlap 0.5] [--parties 2] [--batch 32768]
 *   [--workers 2] [--json]`
 *
 * PSI v2 end to end over the loopback transport: every party runs the real runner
 * (node/runners/psi-party.ts) in this process, sharing one worker pool of `--workers` threads (the
 * machine's cores), so the wall time is what one machine needs to run all parties. Prints the
 * per-id costs of hash-to-curve (RFC 9380, crypto/psi/hash-to-curve.ts; noble's edwards25519 RO for
 * comparison) and of one X25519 blinding on one core (`x25519_blind_us_per_op`: the workers'
 * blindPacked, PEM keys; `x25519_keyobject_blind_us_per_op`: blindPoints, a KeyObject per point), as
 * CPU time, best of three runs over 8,000 items (less sensitive than wall time to other processes on
 * the machine); then wall time, CPU time, throughput (ids of all parties per second) and peak RSS for
 * n × n ids (default 100,000; --million adds 1,000,000 × 1,000,000).
 *
 * Targets (issue 7): 1,000,000 × 1,000,000 under 3 minutes with peak RSS under 2 GB on 2 cores.
 */
import { availableParallelism } from 'node:os'
import { ed25519_hasher } from '@noble/curves/ed25519.js'
import { blindPoints, hashIds, psiKeygen } from '../crypto/psi/blind.ts'
import { hashIdsToCurve } from '../crypto/psi/hash-to-curve.ts'
import { createPsiPool } from '../crypto/psi/psi-pool.ts'
import { blindPacked } from '../crypto/psi/psi-worker.ts'
import { createLocalPsiParties } from '../node/runners/psi-local.ts'
import { createLoopbackNetwork } from '../simulations/loopback-transport.ts'
import { flag, report } from './_report.ts'

function ids(prefix: string, from: number, count: number): string[] {
  const out = new Array<string>(count)
  for (let i = 0; i < count; i++) out[i] = `${prefix}${String(from + i).padStart(9, '0')}`
  return out
}

/** CPU µs per item of f over `items` items on this thread: the best of three runs after a warm-up. */
function cpuPerItem(items: number, f: () => void): number {
  f()
  let best = Number.POSITIVE_INFINITY
  for (let r = 0; r < 3; r++) {
    const c0 = process.cpuUsage()
    f()
    const c = process.cpuUsage(c0)
    best = Math.min(best, (c.user + c.system) / items)
  }
  return best
}

function microCosts(): Record<string, number> {
  const salt = crypto.getRandomValues(new Uint8Array(32))
  const sample = ids('m', 0, 8000)
  const points = hashIdsToCurve(sample, salt)
  const key = psiKeygen()
  const enc = new TextEncoder()
  const noble = sample.slice(0, 300).map((id) => enc.encode(id))
  return {
    h2c_us_per_id: cpuPerItem(sample.length, () => hashIdsToCurve(sample, salt)),
    h2c_noble_edwards_ro_us_per_id: cpuPerItem(noble.length, () => {
      for (const m of noble) ed25519_hasher.hashToCurve(m, { DST: 'cohort/psi/v2' })
    }),
    v1_hash_us_per_id: cpuPerItem(sample.length, () => hashIds(sample, salt)),
    // What the pool's workers run (PEM keys), and blindPoints (a KeyObject per point).
    x25519_blind_us_per_op: cpuPerItem(sample.length, () => blindPacked(key, points)),
    x25519_keyobject_blind_us_per_op: cpuPerItem(sample.length, () => blindPoints(key, points))
  }
}

/** One n × n session (every party runs in this process; also used by he-psi-vertical). */
export async function run(n: number, overlap: number, parties: number, batch: number, workers: number) {
  const shared = Math.round(n * overlap)
  const specs = Array.from({ length: parties }, (_, p) => ({
    name: `party-${p}`,
    // Every party holds the `shared` common ids plus its own n - shared.
    ids: [...ids('c', 0, shared), ...ids(`p${p}-`, 0, n - shared)]
  }))
  const net = createLoopbackNetwork()
  const pool = createPsiPool({ size: workers })
  const local = await createLocalPsiParties({ parties: specs, transportFor: (p) => net.transport(p), pool })
  const t = performance.now()
  const cpu0 = process.cpuUsage()
  const results = await local.run({ jobId: `bench-${n}`, batchPoints: batch, timeoutMs: 3_600_000 })
  const wallMs = performance.now() - t
  const cpu = process.cpuUsage(cpu0)
  const cpuS = (cpu.user + cpu.system) / 1e6
  const size = results.get('party-0')!.intersectionSize
  await local.close()
  await pool.close()
  if (size !== shared) throw new Error(`intersection ${size}, expected ${shared}`)
  return { wallMs, size, cpuS, idsPerS: (n * parties) / (wallMs / 1000) }
}

export async function main(argv: string[]): Promise<void> {
  const n = Number(flag(argv, 'n', '100000'))
  const overlap = Number(flag(argv, 'overlap', '0.5'))
  const parties = Number(flag(argv, 'parties', '2'))
  const batch = Number(flag(argv, 'batch', '32768'))
  const workers = Number(flag(argv, 'workers', String(availableParallelism())))
  const figures: Record<string, number | string | boolean> = { workers, parties, overlap, ...microCosts() }
  const small = await run(n, overlap, parties, batch, workers)
  figures[`wall_s_${n}`] = small.wallMs / 1000
  figures[`ids_per_s_${n}`] = small.idsPerS
  figures[`intersection_${n}`] = small.size
  figures[`cpu_s_${n}`] = small.cpuS
  figures[`peak_rss_mb_after_${n}`] = process.resourceUsage().maxRSS / 1024
  if (argv.includes('--million')) {
    const big = await run(1_000_000, overlap, parties, batch, workers)
    figures.wall_s_1000000 = big.wallMs / 1000
    figures.ids_per_s_1000000 = big.idsPerS
    figures.intersection_1000000 = big.size
    figures.cpu_s_1000000 = big.cpuS
    figures.peak_rss_mb = process.resourceUsage().maxRSS / 1024
    figures.target_met = big.wallMs < 180_000 && process.resourceUsage().maxRSS / 1024 < 2048
  }
  report('psi', figures, argv)
}
