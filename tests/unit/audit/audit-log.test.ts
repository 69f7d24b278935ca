import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { seqKey } from '../../../platform/audit/entry.ts'
import { exportAudit, parseAuditExport, verifyAuditExport } from '../../../platform/audit/export.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

async function nodeWithEntries(n: number) {
  const m = await memoryNode()
  for (let i = 0; i < n; i++)
    await m.audit.append(
      i % 2 === 0 ? 'dataset-imported' : 'policy-changed',
      { i, note: `entry ${i}` },
      { actor: 'cli' }
    )
  return m
}

describe('audit log', () => {
  it('chains entries, signs the head and verifies', async () => {
    const { audit, signer } = await nodeWithEntries(5)
    const entries = await audit.read()
    expect(entries.map((e) => e.seq)).toEqual([0, 1, 2, 3, 4])
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.prev).toBe(entries[i - 1]!.hash)
    const head = await audit.head()
    expect(head).toMatchObject({ peerId: signer.peerId, seq: 4, hash: entries[4]!.hash })
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 5 })
  })

  it('serialises concurrent appends into one unbroken chain', async () => {
    const { audit } = await memoryNode()
    await Promise.all(Array.from({ length: 20 }, (_, i) => audit.append('event', { i })))
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 20 })
  })

  it('writes caller operations in the same atomic batch as the entry', async () => {
    const { store, audit } = await memoryNode()
    await audit.append(
      'policy-changed',
      { x: 1 },
      { with: [{ type: 'put', sublevel: store.policy, key: 'node', value: { x: 1 } }] }
    )
    expect(await store.policy.get('node')).toEqual({ x: 1 })
    // A failing batch leaves neither the entry nor the caller's write.
    const bad = { type: 'put' as const, sublevel: store.policy, key: '', value: undefined }
    await expect(audit.append('policy-changed', { x: 2 }, { with: [bad] })).rejects.toThrow()
    expect((await audit.read()).length).toBe(1)
    expect(await audit.verify()).toMatchObject({ ok: true })
  })

  it('never writes to an existing audit key', async () => {
    const { store, audit } = await memoryNode()
    const original = store.root.batch.bind(store.root)
    const seen: string[] = []
    // biome-ignore lint/suspicious/noExplicitAny: spying on the untyped batch array form
    ;(store.root as any).batch = async (ops: any[], ...rest: unknown[]) => {
      for (const op of ops) {
        if (op.sublevel === store.audit) {
          expect(op.type).toBe('put')
          expect(await store.audit.get(op.key)).toBeUndefined()
          seen.push(op.key)
        }
      }
      // biome-ignore lint/suspicious/noExplicitAny: forwarding
      return (original as any)(ops, ...rest)
    }
    for (let i = 0; i < 10; i++) await audit.append('event', { i })
    expect(seen).toEqual(Array.from({ length: 10 }, (_, i) => seqKey(i)))
  })

  it('a one-byte change to any stored entry fails verification and names that entry', async () => {
    const { store, audit } = await nodeWithEntries(6)
    const stored: Array<[string, Uint8Array]> = []
    for await (const kv of store.audit.iterator()) stored.push(kv)
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: stored.length - 1 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (idx, pos, delta) => {
          const [key, value] = stored[idx]!
          const tampered = new Uint8Array(value)
          const p = pos % tampered.length
          tampered[p] = (tampered[p]! + delta) & 0xff
          await store.audit.put(key, tampered)
          try {
            const r = await audit.verify()
            expect(r.ok).toBe(false)
            expect(r.firstBad?.seq).toBe(idx)
          } finally {
            await store.audit.put(key, value)
          }
        }
      ),
      { numRuns: 150 }
    )
    expect((await audit.verify()).ok).toBe(true)
  })

  it('detects a truncated log and a replaced head', async () => {
    const { store, audit } = await nodeWithEntries(4)
    const last = await store.audit.get(seqKey(3))
    await store.audit.del(seqKey(3))
    expect(await audit.verify()).toMatchObject({ ok: false, firstBad: { seq: 3 } })
    await store.audit.put(seqKey(3), last!)
    const head = (await store.meta.get('audit-head')) as { sig: string }
    await store.meta.put('audit-head', { ...head, sig: Buffer.alloc(64, 1).toString('base64') })
    expect(await audit.verify()).toMatchObject({ ok: false, firstBad: { seq: -1 } })
  })

  it('an export verifies offline and fails after any one-byte change', async () => {
    const { store, audit, signer } = await nodeWithEntries(3)
    const text = await exportAudit(store, signer)
    expect(await verifyAuditExport(parseAuditExport(text))).toMatchObject({ ok: true, entries: 3 })
    expect(await verifyAuditExport(parseAuditExport(text), 'not-this-peer')).toMatchObject({ ok: false })
    const bytes = Buffer.from(text)
    let failures = 0
    for (let p = 0; p < bytes.length; p++) {
      const changed = Buffer.from(bytes)
      changed[p] = changed[p]! ^ 0x01
      let ok = false
      try {
        ok = (await verifyAuditExport(parseAuditExport(changed.toString('utf8')))).ok
      } catch {
        ok = false
      }
      if (!ok) failures++
    }
    expect(failures).toBe(bytes.length)
    expect((await audit.verify()).ok).toBe(true)
  })
})
