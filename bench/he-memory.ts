/**
 * `npm run bench -- he-memory [--json] [--cycles 10000] [--warmup 200] [--max-growth-mb 32]`:
 * deterministic release of SEAL memory. Runs BFV encrypt + add + free cycles and reports the growth
 * of the process RSS and of the SEAL wasm heap after a warm-up. With leaks, RSS grows by the size of
 * what leaks per cycle times the cycle count (one 64 KiB plaintext per cycle = 640 MB at 10,000).
 * Sets a non-zero exit code when RSS grows by more than --max-growth-mb.
 */
import { bfvAdd, bfvEncryptVector } from '../crypto/he/bfv.ts'
import { createHeContext } from '../crypto/he/context.ts'
import { generateKeys } from '../crypto/he/keys.ts'
import { sealHeapBytes } from '../crypto/he/runtime.ts'
import { flag, report } from './_report.ts'

const MB = 1024 * 1024

export async function main(argv: string[]): Promise<void> {
  const cycles = Number(flag(argv, 'cycles', '10000'))
  const warmup = Number(flag(argv, 'warmup', '200'))
  const maxGrowthMb = Number(flag(argv, 'max-growth-mb', '32'))
  using ctx = await createHeContext('bfv-8192')
  using keys = generateKeys(ctx)
  const values = Array.from({ length: ctx.slotCount }, (_, i) => (i % 2001) - 1000)
  const cycle = (): void => {
    using v = bfvEncryptVector(keys.publicKey, values)
    bfvAdd(v, v).dispose()
  }
  for (let i = 0; i < warmup; i++) cycle()
  globalThis.gc?.()
  const rss0 = process.memoryUsage().rss
  const heap0 = sealHeapBytes()
  let rssPeak = rss0
  const t = performance.now()
  for (let i = 0; i < cycles; i++) {
    cycle()
    if (i % 500 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage().rss)
  }
  const ms = performance.now() - t
  globalThis.gc?.()
  const rss1 = process.memoryUsage().rss
  const growthMb = (Math.max(rss1, rssPeak) - rss0) / MB
  const flat = growthMb <= maxGrowthMb && sealHeapBytes() === heap0
  report(
    'he-memory',
    {
      cycles,
      ms_per_cycle: ms / cycles,
      rss_start_mb: rss0 / MB,
      rss_end_mb: rss1 / MB,
      rss_growth_mb: growthMb,
      wasm_heap_mb: sealHeapBytes() / MB,
      wasm_heap_growth_mb: (sealHeapBytes() - heap0) / MB,
      flat
    },
    argv
  )
  if (!flat) process.exitCode = 1
}
