import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { readLines } from '../../../node/data/csv-reader.ts'

async function* pieces(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (const c of [...cuts].sort((a, b) => a - b)) {
    if (c > at && c < bytes.length) {
      yield bytes.subarray(at, c)
      at = c
    }
  }
  if (at < bytes.length) yield bytes.subarray(at)
}

async function lines(bytes: Uint8Array, cuts: number[] = [], maxLineBytes?: number) {
  const out: Array<[number, string]> = []
  const opts = maxLineBytes === undefined ? {} : { maxLineBytes }
  for await (const b of readLines(pieces(bytes, cuts), opts)) {
    for (let i = 0; i < b.count; i++) {
      out.push([b.firstLine + i, Buffer.from(b.bytes.subarray(b.starts[i]!, b.ends[i]!)).toString('utf8')])
    }
  }
  return out
}

const enc = (s: string) => new TextEncoder().encode(s)

describe('readLines', () => {
  it('splits lines, numbers them from 1, strips \\r and keeps a last line without \\n', async () => {
    expect(await lines(enc('a,b\r\n1,2\n\n3,4'))).toEqual([
      [1, 'a,b'],
      [2, '1,2'],
      [3, ''],
      [4, '3,4']
    ])
  })

  it('skips a UTF-8 BOM, even when it arrives byte by byte', async () => {
    const bytes = enc('\uFEFFid,x\nü1,2\n')
    expect(await lines(bytes, [1, 2, 3, 4])).toEqual([
      [1, 'id,x'],
      [2, 'ü1,2']
    ])
  })

  it('gives the same lines however the stream is cut', async () => {
    const text = 'row_index,uid\n0,u00000\r\n1,u00001\n\n2,u00002\n3,ü'
    const want = await lines(enc(text))
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: text.length + 2 }), { maxLength: 12 }),
        async (cuts) => {
          expect(await lines(enc(text), cuts)).toEqual(want)
        }
      ),
      { numRuns: 300 }
    )
  })

  it('refuses a line longer than maxLineBytes with a line-numbered COHORT_DATASET_INVALID', async () => {
    const bytes = enc(`a\n${'x'.repeat(100)}\n`)
    await expect(lines(bytes, [10, 20, 50], 64)).rejects.toMatchObject({
      code: 'COHORT_DATASET_INVALID',
      report: { total: 1, issues: [{ line: 2 }] }
    })
  })
})
