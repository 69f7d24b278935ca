/**
 * The audit writer keeps the head in memory after the first append: the chain it writes must equal
 * one that re-reads the head each time, across a restart, with two logs over one store and after a
 * failed batch.
 */
import { MemoryLevel } from 'memory-level'
import { describe, expect, it } from 'vitest'
import { createAuditLog } from '../../../platform/audit/audit-log.ts'
import { seqKey } from '../../../platform/audit/entry.ts'
import { AuditVerificationError } from '../../../platform/audit/errors.ts'
import { storeOn } from '../../../platform/storage/db.ts'
import type { RootDb } from '../../../platform/storage/db.ts'
import { memoryNode } from '../../helpers/memory-node.ts'

describe('audit head kept in memory', () => {
  it('a second log over the same store continues the same chain, interleaved', async () => {
    const { store, audit, signer } = await memoryNode()
    const other = createAuditLog(store, signer)
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? audit : other).append('event', { i }))
    )
    const entries = await audit.read()
    expect(entries.map((e) => e.seq)).toEqual([...Array(12).keys()])
    expect(await other.verify()).toMatchObject({ ok: true, entries: 12 })
  })

  it('after a restart (store reopened) appends continue from the stored head', async () => {
    const root = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    const { signer } = await memoryNode()
    await root.open()
    await createAuditLog(storeOn(root as unknown as RootDb), signer).append('a', { n: 1 })
    await createAuditLog(storeOn(root as unknown as RootDb), signer).append('b', { n: 2 })
    const store = storeOn(root as unknown as RootDb)
    const log = createAuditLog(store, signer)
    await log.append('c', { n: 3 })
    expect((await log.read()).map((e) => e.kind)).toEqual(['a', 'b', 'c'])
    expect(await log.verify()).toMatchObject({ ok: true, entries: 3 })
  })

  it('a failed batch leaves the chain unbroken and the next append re-reads the head', async () => {
    const { store, audit } = await memoryNode()
    await audit.append('ok', { i: 0 })
    const bad = { type: 'put' as const, sublevel: store.policy, key: '', value: undefined }
    await expect(audit.append('fails', { i: 1 }, { with: [bad] })).rejects.toThrow()
    await audit.append('ok', { i: 2 })
    expect((await audit.read()).map((e) => [e.seq, e.kind])).toEqual([
      [0, 'ok'],
      [1, 'ok']
    ])
    expect(await audit.verify()).toMatchObject({ ok: true, entries: 2 })
  })

  it('the first append on a store checks the stored head against its entry', async () => {
    const root = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    await root.open()
    const { signer } = await memoryNode()
    const first = createAuditLog(storeOn(root as unknown as RootDb), signer)
    await first.append('a', {})
    await first.append('b', {})
    // A fresh process over a store whose last entry went missing refuses to write.
    const copy = new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' })
    await copy.open()
    for await (const [k, v] of root.iterator()) await copy.put(k, v)
    const store = storeOn(copy as unknown as RootDb)
    await store.audit.del(seqKey(1))
    await expect(createAuditLog(store, signer).append('c', {})).rejects.toBeInstanceOf(AuditVerificationError)
  })
})
