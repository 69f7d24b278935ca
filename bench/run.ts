/**
 * `npm run bench -- NAME [flags]`: runs bench/NAME.ts. Every bench prints human-readable figures and,
 * with `--json`, one JSON object with its figures as its last line.
 */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort()

const [name, ...rest] = process.argv.slice(2)
if (name === undefined || name === '--help' || !available.includes(name)) {
  const msg = `usage: npm run bench -- NAME [--json] [flags]\navailable: ${available.join(', ')}`
  if (name === undefined || name === '--help') {
    console.log(msg)
    process.exit(0)
  }
  console.error(`unknown bench "${name}". ${msg}`)
  process.exit(2)
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as {
  main: (argv: string[]) => Promise<void>
}
await mod.main(rest)
