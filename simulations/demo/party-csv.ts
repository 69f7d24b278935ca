import { createReadStream, createWriteStream } from 'node:fs'
import { once } from 'node:events'
import { createInterface } from 'node:readline'

/**
 * Writes the header and the rows whose 0-based data index is in `rows` (a partition file's party
 * list) to `out`: each company's own slice of a shared public dataset.
 */
export async function writePartyCsv(csv: string, rows: readonly number[], out: string): Promise<number> {
  const keep = new Set(rows)
  const w = createWriteStream(out)
  let index = -1
  let written = 0
  for await (const line of createInterface({
    input: createReadStream(csv),
    crlfDelay: Number.POSITIVE_INFINITY
  })) {
    if (index === -1 || keep.has(index)) {
      if (!w.write(`${line}\n`)) await once(w, 'drain')
      if (index >= 0) written++
    }
    index++
  }
  w.end()
  await once(w, 'finish')
  return written
}
