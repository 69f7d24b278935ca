/** Shared output for benches: a table for people, one JSON line (last) for machines. */
export function report(
  name: string,
  figures: Record<string, number | string | boolean>,
  argv: string[]
): void {
  const json = argv.includes('--json')
  if (!json) {
    console.log(`bench ${name}`)
    const width = Math.max(...Object.keys(figures).map((k) => k.length))
    for (const [k, v] of Object.entries(figures)) {
      const shown = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toPrecision(4)) : String(v)
      console.log(`  ${k.padEnd(width)}  ${shown}`)
    }
    return
  }
  console.log(JSON.stringify({ bench: name, ...figures }))
}

/** Value of `--flag V` in argv, or the default. */
export function flag(argv: string[], name: string, dflt: string): string {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : dflt
}
