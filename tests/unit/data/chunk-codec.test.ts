import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ChunkBuilder, decodeChunk, missingCode } from '../../../node/data/chunk-codec.ts'
import { parseDatasetSpec } from '../../../node/data/spec.ts'

const wide = Array.from({ length: 300 }, (_, i) => `w${i}`)
const schema = parseDatasetSpec({
  columns: [
    { name: 'row', type: 'index' },
    { name: 'uid', type: 'id' },
    { name: 'x', type: 'number' },
    { name: 'c', type: 'category', levels: ['a', 'b', 'c'] },
    { name: 'w', type: 'category', levels: wide }
  ]
})

describe('chunk codec', () => {
  it('round-trips numbers (NaN = missing), 1- and 2-byte codes and UTF-8 ids', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            x: fc.double(),
            c: fc.integer({ min: -1, max: 2 }),
            w: fc.integer({ min: -1, max: 299 }),
            id: fc.string({ minLength: 1, maxLength: 12 })
          }),
          { minLength: 1, maxLength: 40 }
        ),
        (rows) => {
          const b = new ChunkBuilder(schema, 64)
          rows.forEach((r, i) => {
            b.numbers[0]![i] = i
            b.numbers[2]![i] = r.x
            b.codes[3]![i] = r.c < 0 ? missingCode(1) : r.c
            b.codes[4]![i] = r.w < 0 ? missingCode(2) : r.w
            const idBytes = Buffer.from(r.id, 'utf8')
            b.pushId(idBytes, 0, idBytes.length)
            b.length++
          })
          // An odd byteOffset, as a LevelDB value may have: decoding must copy to align.
          const encoded = b.encode()
          const shifted = new Uint8Array(encoded.length + 1).subarray(1)
          shifted.set(encoded)
          const chunk = decodeChunk(schema, shifted, 128)
          expect(chunk.start).toBe(128)
          expect(chunk.length).toBe(rows.length)
          const [row, uid, x, c, w] = chunk.columns
          expect(row).toMatchObject({ kind: 'number' })
          rows.forEach((r, i) => {
            expect(Object.is((x as { values: Float64Array }).values[i], r.x)).toBe(true)
            expect((c as { codes: Uint8Array }).codes[i]).toBe(r.c < 0 ? 255 : r.c)
            expect((w as { codes: Uint16Array }).codes[i]).toBe(r.w < 0 ? 65535 : r.w)
            expect((uid as { values: string[] }).values[i]).toBe(Buffer.from(r.id, 'utf8').toString('utf8'))
          })
          expect(b.length).toBe(0)
        }
      ),
      { numRuns: 100 }
    )
  })

  it('decodes only the selected columns', () => {
    const b = new ChunkBuilder(schema, 4)
    const id = Buffer.from('u1')
    b.pushId(id, 0, 2)
    b.length = 1
    const chunk = decodeChunk(schema, b.encode(), 0, [2, 3])
    expect(chunk.columns.map((c) => c.name)).toEqual(['x', 'c'])
  })

  it('refuses a truncated or foreign chunk with COHORT_DATASET_STORAGE', () => {
    const b = new ChunkBuilder(schema, 4)
    b.pushId(Buffer.from('u1'), 0, 2)
    b.length = 1
    const bytes = b.encode()
    expect(() => decodeChunk(schema, bytes.subarray(0, bytes.length - 3), 0)).toThrow(
      expect.objectContaining({ code: 'COHORT_DATASET_STORAGE' })
    )
    const foreign = bytes.slice()
    foreign[0] = 9
    expect(() => decodeChunk(schema, foreign, 0)).toThrow(
      expect.objectContaining({ code: 'COHORT_DATASET_STORAGE' })
    )
  })
})
