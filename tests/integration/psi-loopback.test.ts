/**
 * PSI v2 end to end over the loopback transport, three parties running the real runner
 * (node/runners/psi-party.ts) on the `vertical_overlap.json` partition of datasets/credit_data:
 * exact intersection (computed here from the JSON), aligned indexes, storage and audit; size-only
 * parties; and refusals (salt mismatch, non-members, malformed and oversized batches).
 */
import { readFileSync } from 'node:fs'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createPsiPool } from '../../crypto/psi/psi-pool.ts'
import { loadPsiResult } from '../../node/psi/result-store.ts'
import { createLocalPsiParties } from '../../node/runners/psi-local.ts'
import type { LocalPsiParties, LocalPsiPartySpec } from '../../node/runners/psi-local.ts'
import { PROTOCOLS } from '../../protocols/ids.ts'
import { MAX_PSI_FRAME_BYTES } from '../../protocols/psi/limits.ts'
import { decodePsiRequest, encodePsi } from '../../protocols/psi/messages.ts'
import type { LinkEvent, LoopbackHooks } from '../../simulations/loopback-transport.ts'
import { createLoopbackNetwork } from '../../simulations/loopback-transport.ts'

const partition = JSON.parse(
  readFileSync(
    new URL('../../datasets/credit_data/partitions/vertical_overlap.json', import.meta.url),
    'utf8'
  )
) as Record<string, string[]>
const NAMES = ['lender', 'payroll_provider', 'retailer'] as const
const expected = partition.lender!.filter(
  (id) => partition.payroll_provider!.includes(id) && partition.retailer!.includes(id)
)

const pool = createPsiPool({ size: 2 })
let local: LocalPsiParties | undefined
afterEach(async () => {
  await local?.close()
  local = undefined
})
afterAll(() => pool.close())

interface Sent {
  from: string
  to: string
  phase: string
}
async function federation(specs: LocalPsiPartySpec[], hooks: LoopbackHooks = {}) {
  const sent: Sent[] = []
  const tamper = hooks.tamper
  const net = createLoopbackNetwork({
    ...hooks,
    tamper: (e: LinkEvent, bytes: Uint8Array) => {
      if (e.direction === 'request' && e.protocol === PROTOCOLS.psi) {
        try {
          sent.push({ from: e.from, to: e.to, phase: decodePsiRequest(bytes).phase })
        } catch {}
      }
      return tamper?.(e, bytes) ?? bytes
    }
  })
  local = await createLocalPsiParties({ parties: specs, transportFor: (p) => net.transport(p), pool })
  return { local, net, sent }
}
const specs = (
  reveal: Partial<Record<string, 'intersection' | 'size'>> = {},
  take = Infinity
): LocalPsiPartySpec[] =>
  NAMES.map((name) => ({
    name,
    ids: partition[name]!.slice(0, take),
    reveal: reveal[name] ?? 'intersection'
  }))

describe('PSI over loopback: credit_data vertical_overlap, three parties', () => {
  it(`finds exactly the ${expected.length} shared uids, aligned across parties, stored and audited without ids`, async () => {
    expect(expected.length).toBe(2762)
    const { local } = await federation(specs())
    const results = await local.run({ jobId: 'psi-credit', batchPoints: 1000 })
    const aligned = NAMES.map((name) =>
      Array.from(results.get(name)!.index!, (row) => partition[name]![row]!)
    )
    expect(aligned[0]).toEqual(aligned[1])
    expect(aligned[0]).toEqual(aligned[2])
    expect([...aligned[0]!].sort()).toEqual([...expected].sort())
    for (const [i, name] of NAMES.entries()) {
      const r = results.get(name)!
      expect(r.intersectionSize).toBe(2762)
      expect(r.setSizes).toEqual([3786, 3786, 3786])
      expect(r.role).toBe(['leader', 'party', 'shuffler'][i])
      const party = local.parties[i]!
      const stored = await loadPsiResult(party.store, 'psi-credit')
      expect(stored?.meta).toMatchObject({ learned: 'intersection', intersectionSize: 2762, dataset: name })
      expect([...stored!.index!]).toEqual([...r.index!])
      const entries = await party.audit.read()
      expect(entries.map((e) => e.kind)).toEqual(['psi-open', 'psi-start', 'psi-done'])
      expect(entries[2]!.body).toMatchObject({
        intersectionSize: 2762,
        setSizesLearned: [3786, 3786, 3786],
        rowsStored: 2762
      })
      expect(JSON.stringify(entries.map((e) => e.body))).not.toMatch(/u\d{5}/)
      expect((await party.audit.verify()).ok).toBe(true)
    }
  })

  it('size-only parties (leader and retailer) learn the size but receive no positions', async () => {
    const { local, sent } = await federation(specs({ lender: 'size', retailer: 'size' }))
    const [lender, payroll, retailer] = local.parties
    const results = await local.run({ jobId: 'psi-size', batchPoints: 1000 })
    expect(results.get('lender')).toMatchObject({ learned: 'size', intersectionSize: 2762, index: undefined })
    expect(results.get('retailer')).toMatchObject({
      learned: 'size',
      intersectionSize: 2762,
      index: undefined
    })
    expect(results.get('payroll_provider')!.index).toHaveLength(2762)
    // Positions go only to the party that may learn them; the leader never asks the shuffler to unshuffle.
    expect(sent.filter((m) => m.phase === 'result').every((m) => m.to === payroll!.peerId)).toBe(true)
    expect(sent.some((m) => m.phase === 'result')).toBe(true)
    expect(sent.filter((m) => m.phase === 'unshuffle')).toEqual([])
    // Nothing a size-only party received names a position: its inbound messages are open/start/batch/done.
    for (const p of [lender!, retailer!]) {
      expect([...new Set(sent.filter((m) => m.to === p.peerId).map((m) => m.phase))].sort()).toEqual(
        p === lender ? ['batch'] : ['batch', 'done', 'open', 'start']
      )
      const stored = await loadPsiResult(p.store, 'psi-size')
      expect(stored).toMatchObject({ meta: { learned: 'size', chunks: 0 }, index: undefined })
    }
  })
})

describe('PSI refusals', () => {
  it('mismatched salts: the party with another salt refuses open (COHORT_PSI_SALT_MISMATCH); nobody stores a result', async () => {
    const s = specs()
    s[2] = { ...s[2]!, input: { salt: crypto.getRandomValues(new Uint8Array(32)) } }
    const { local } = await federation(s)
    await expect(local.run({ jobId: 'psi-salt' })).rejects.toMatchObject({ code: 'COHORT_PSI_SALT_MISMATCH' })
    const refused = (await local.parties[2]!.audit.read()).filter((e) => e.kind === 'psi-refused')
    expect(refused[0]!.body).toMatchObject({ code: 'COHORT_PSI_SALT_MISMATCH', phase: 'open' })
    for (const p of local.parties) expect(await loadPsiResult(p.store, 'psi-salt')).toBeUndefined()
  })

  it('a plan naming a non-member is refused (COHORT_PSI_NOT_MEMBER)', async () => {
    const { local } = await federation(specs())
    local.manifest.members = local.manifest.members.filter((m) => m.org !== 'retailer')
    await expect(local.run({ jobId: 'psi-member' })).rejects.toMatchObject({ code: 'COHORT_PSI_NOT_MEMBER' })
  })

  it('a request from a non-member peer is refused and audited', async () => {
    const { local, net } = await federation(specs())
    const outsider = net.transport('12D3KooWOutsiderOutsiderOutsiderOutsiderOutsider1')
    const open = encodePsi({
      v: 1,
      sessionId: 'session-out',
      phase: 'abort',
      code: 'COHORT_X',
      reason: 'probe'
    })
    await expect(outsider.request(local.parties[0]!.peerId, PROTOCOLS.psi, open)).rejects.toMatchObject({
      code: 'COHORT_PSI_NOT_MEMBER'
    })
    const refused = (await local.parties[0]!.audit.read()).filter((e) => e.kind === 'psi-refused')
    expect(refused[0]!.body).toMatchObject({ code: 'COHORT_PSI_NOT_MEMBER' })
  })

  it('malformed, oversized and unknown-session frames from a member are refused', async () => {
    const { local } = await federation(specs())
    const [a, b] = local.parties
    const send = (body: Uint8Array) => b!.transport.request(a!.peerId, PROTOCOLS.psi, body)
    await expect(send(Uint8Array.of(1, 2, 3))).rejects.toMatchObject({ code: 'COHORT_MALFORMED_MESSAGE' })
    await expect(send(new Uint8Array(MAX_PSI_FRAME_BYTES + 1))).rejects.toMatchObject({
      code: 'COHORT_MESSAGE_TOO_LARGE'
    })
    const stray = encodePsi({
      v: 1,
      sessionId: 'session-none',
      phase: 'batch',
      chain: 1,
      seq: 0,
      points: new Uint8Array(32)
    })
    await expect(send(stray)).rejects.toMatchObject({ code: 'COHORT_PSI_UNKNOWN_SESSION' })
  })

  it('a batch cut short in flight is refused (COHORT_PSI_BAD_BATCH) and the session aborts everywhere', async () => {
    let cut = false
    const { local } = await federation(specs(), {
      tamper: (e, bytes) => {
        if (cut || e.direction !== 'request' || e.protocol !== PROTOCOLS.psi) return bytes
        const req = decodePsiRequest(bytes)
        if (req.phase !== 'batch' || req.seq !== 1) return bytes
        cut = true
        return encodePsi({ ...req, points: req.points.subarray(0, req.points.length - 32) })
      }
    })
    const err = await local.run({ jobId: 'psi-bad', batchPoints: 1000 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'COHORT_PSI_ABORTED', causeCode: 'COHORT_PSI_BAD_BATCH' })
    // The abort reaches the other parties asynchronously: wait (bounded) until every log has it.
    let logs = await Promise.all(local.parties.map((p) => p.audit.read()))
    for (let i = 0; i < 100 && !logs.every((l) => l.some((e) => e.kind === 'psi-aborted')); i++) {
      await new Promise((r) => setTimeout(r, 20))
      logs = await Promise.all(local.parties.map((p) => p.audit.read()))
    }
    const refusals = logs.flat().filter((e) => e.kind === 'psi-refused')
    expect(refusals.map((e) => (e.body as { code: string }).code)).toContain('COHORT_PSI_BAD_BATCH')
    for (const log of logs) expect(log.some((e) => e.kind === 'psi-aborted')).toBe(true)
    for (const p of local.parties) {
      expect(await loadPsiResult(p.store, 'psi-bad')).toBeUndefined()
      expect(p.handle.activeSessions()).toBe(0)
    }
  })
})
