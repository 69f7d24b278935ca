/**
 * PSI v2 over real libp2p: three hosts on 127.0.0.1 TCP (Noise, yamux, membership gater), each with
 * the real runner on createLibp2pTransport; the parties stream blinded batches to each other
 * directly (hops are peer-to-peer). credit_data vertical_overlap: 2762 shared uids.
 */
import { readFileSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPsiPool } from '../../crypto/psi/psi-pool.ts'
import { createHost } from '../../platform/net/libp2p-host.ts'
import type { CohortLibp2p } from '../../platform/net/libp2p-host.ts'
import { createLibp2pTransport } from '../../platform/net/libp2p-transport.ts'
import { createLocalPsiParties } from '../../node/runners/psi-local.ts'
import type { LocalPsiParties } from '../../node/runners/psi-local.ts'

const partition = JSON.parse(
  readFileSync(
    new URL('../../datasets/credit_data/partitions/vertical_overlap.json', import.meta.url),
    'utf8'
  )
) as Record<string, string[]>
const NAMES = ['lender', 'payroll_provider', 'retailer'] as const

const pool = createPsiPool({ size: 2 })
const hosts: CohortLibp2p[] = []
let local: LocalPsiParties

beforeAll(async () => {
  const keys = await Promise.all(NAMES.map(() => generateKeyPair('Ed25519')))
  const ids = keys.map((k) => peerIdFromPrivateKey(k).toString())
  const isMember = (p: string) => ids.includes(p)
  for (const key of keys) hosts.push(await createHost({ privateKey: key, isMember, onRefused: () => {} }))
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) await hosts[i]!.dial(hosts[j]!.getMultiaddrs()[0]!)
  }
  local = await createLocalPsiParties({
    parties: NAMES.map((name, i) => ({
      name,
      ids: partition[name]!,
      reveal: i === 2 ? 'size' : 'intersection'
    })),
    keys,
    transportFor: (peerId) => createLibp2pTransport(hosts[ids.indexOf(peerId)]!),
    pool
  })
}, 60_000)

afterAll(async () => {
  await local?.close()
  for (const h of hosts) await h.stop()
  await pool.close()
})

describe('PSI over libp2p TCP: three hosts', () => {
  it('finds the 2762 shared uids; the size-only retailer learns only the count', async () => {
    const results = await local.run({ jobId: 'psi-libp2p', batchPoints: 2048 })
    const lender = Array.from(results.get('lender')!.index!, (r) => partition.lender![r]!)
    const payroll = Array.from(
      results.get('payroll_provider')!.index!,
      (r) => partition.payroll_provider![r]!
    )
    expect(lender).toHaveLength(2762)
    expect(lender).toEqual(payroll)
    expect(new Set(lender)).toEqual(new Set(partition.retailer!.filter((id) => lender.includes(id))))
    expect(results.get('retailer')).toMatchObject({
      learned: 'size',
      intersectionSize: 2762,
      index: undefined
    })
  })
})
