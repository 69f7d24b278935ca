/**
 * `npm run bench -- import [--rows N] [--chunk-rows N] [--json]`: generates a synthetic CSV (uid, row
 * index, label, 20 numeric and 7 categorical columns = 30 columns; about 1 % missing values), imports
 * it into a fresh on-disk store, and reports rows/s and peak RSS. Targets on the 2-core reference
 * machine: >= 100,000 rows/s and peak RSS < 400 MB for 1,000,000 rows.
 */
import { spawnSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createAuditLog } from '../platform/audit/audit-log.ts'
import { importDataset } from '../node/data/import.ts'
import { parseDatasetSpec } from '../node/data/spec.ts'
import { openNodeStore } from '../platform/storage/db.ts'
import { flag, report } from './_report.ts'

const NUMERIC = 20
const CATEGORIES: string[][] = [
  ['a', 'b', 'c'],
  ['north', 'south', 'east', 'west'],
  ['fixed', 'freelance', 'others', 'partime'],
  ['DSL', 'Fiber_optic', 'No'],
  Array.from({ length: 50 }, (_, i) => `S${i}`),
  ['Month-to-month', 'One_year', 'Two_year'],
  ['A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'D1', 'D2']
]

/** Deterministic xorshift32 so every run imports the same bytes (not for anything secret). */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 4294967296
  }
}

/** Writes the synthetic CSV (exported for tests and ad-hoc profiling). */
export function writeCsv(path: string, rows: number): void {
  const rand = xorshift(42)
  const fd = openSync(path, 'w')
  const header = ['row_index', 'uid', 'label']
  for (let i = 0; i < NUMERIC; i++) header.push(`x${i}`)
  for (let i = 0; i < CATEGORIES.length; i++) header.push(`c${i}`)
  writeSync(fd, `${header.join(',')}\n`)
  let block: string[] = []
  for (let r = 0; r < rows; r++) {
    const f: string[] = [String(r), `u${r.toString().padStart(7, '0')}`, rand() < 0.3 ? 'yes' : 'no']
    for (let i = 0; i < NUMERIC; i++) {
      const u = rand()
      if (u < 0.01) f.push('')
      else if (i % 2 === 0) f.push(String(Math.floor(u * 100_000)))
      else f.push((u * 2000 - 1000).toFixed(2))
    }
    for (const levels of CATEGORIES) {
      const u = rand()
      f.push(u < 0.01 ? '' : levels[Math.floor(u * levels.length)]!)
    }
    block.push(f.join(','))
    if (block.length === 10_000) {
      writeSync(fd, `${block.join('\n')}\n`)
      block = []
    }
  }
  if (block.length > 0) writeSync(fd, `${block.join('\n')}\n`)
  closeSync(fd)
}

function spec() {
  const columns: Array<Record<string, unknown>> = [
    { name: 'row_index', type: 'index' },
    { name: 'uid', type: 'id' },
    { name: 'label', type: 'target', levels: ['no', 'yes'], positive: 'yes' }
  ]
  for (let i = 0; i < NUMERIC; i++) columns.push({ name: `x${i}`, type: 'number' })
  for (const [i, levels] of CATEGORIES.entries()) columns.push({ name: `c${i}`, type: 'category', levels })
  return parseDatasetSpec({ columns, split: { modulus: 5, test: 0 } }, 'bench spec')
}

interface ChildResult {
  rows: number
  seconds: number
  rssBefore: number
  peakRss: number
  maxRss: number
  /** User + system CPU time of the import, all threads (LevelDB writes on its own). */
  cpuSeconds: number
}

/** The measured part, run in a fresh child process so the CSV generation does not inflate its RSS. */
async function child(csv: string, dir: string, chunkRows: number, batchChunks: number): Promise<void> {
  const store = await openNodeStore(dir)
  const key = await generateKeyPair('Ed25519')
  const audit = createAuditLog(store, {
    peerId: peerIdFromPrivateKey(key).toString(),
    sign: (d) => key.sign(d)
  })
  const schema = spec()
  const rssBefore = process.memoryUsage.rss()
  let peakRss = rssBefore
  const sample = () => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }
  const sampler = setInterval(sample, 20)
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  const { manifest } = await importDataset(
    { store, audit },
    {
      name: 'bench',
      schema,
      csv,
      chunkRows,
      batchChunks,
      onProgress: ({ lines }) => {
        sample()
        process.stderr.write(`  ${lines} rows\n`)
      }
    }
  )
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  clearInterval(sampler)
  sample()
  await store.close()
  const out: ChildResult = {
    rows: manifest.rows,
    seconds,
    rssBefore,
    peakRss,
    // ru_maxrss is in KiB on Linux.
    maxRss: process.resourceUsage().maxRSS * 1024,
    cpuSeconds: (cpu.user + cpu.system) / 1e6
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

export async function main(argv: string[]): Promise<void> {
  const rows = Number(flag(argv, 'rows', '1000000'))
  const chunkRows = Number(flag(argv, 'chunk-rows', '4096'))
  const batchChunks = Number(flag(argv, 'batch-chunks', '4'))
  const json = argv.includes('--json')
  const dir = mkdtempSync(join(tmpdir(), 'cohort-bench-import-'))
  try {
    const csv = join(dir, 'data.csv')
    const g0 = performance.now()
    writeCsv(csv, rows)
    const generateSeconds = (performance.now() - g0) / 1000
    const csvBytes = statSync(csv).size
    const args = [
      fileURLToPath(import.meta.url),
      '--child',
      csv,
      join(dir, 'node'),
      String(chunkRows),
      String(batchChunks)
    ]
    const run = spawnSync(process.execPath, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', json ? 'ignore' : 'inherit']
    })
    if (run.status !== 0) throw new Error(`the import child failed (exit ${run.status}): ${run.stdout}`)
    const r = JSON.parse(run.stdout.trim().split('\n').pop()!) as ChildResult
    const mb = (b: number) => Math.round((b / 1048576) * 10) / 10
    report(
      'import',
      {
        rows: r.rows,
        columns: 30,
        chunkRows,
        batchChunks,
        csvMb: mb(csvBytes),
        generateSeconds: Math.round(generateSeconds * 100) / 100,
        importSeconds: Math.round(r.seconds * 100) / 100,
        rowsPerSec: Math.round(r.rows / r.seconds),
        cpuSeconds: Math.round(r.cpuSeconds * 100) / 100,
        mbPerSec: Math.round((csvBytes / 1048576 / r.seconds) * 10) / 10,
        rssBeforeMb: mb(r.rssBefore),
        peakRssMb: mb(r.peakRss),
        maxRssMb: mb(r.maxRss),
        targetRowsPerSec: 100_000,
        targetPeakRssMb: 400,
        pass: r.rows / r.seconds >= 100_000 && Math.max(r.peakRss, r.maxRss) < 400 * 1048576
      },
      argv
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (import.meta.main && process.argv[2] === '--child') {
  const [csv, dir, chunkRows, batchChunks] = process.argv.slice(3)
  await child(csv!, dir!, Number(chunkRows), Number(batchChunks))
}
