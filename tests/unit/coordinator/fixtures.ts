import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { FederationManifest } from '../../../configs/federation.ts'
import { JobConfig } from '../../../configs/job.ts'
import type { JobRecord, RoundRecord } from '../../../coordinator/jobs/types.ts'

/** A valid job config (3 rounds of logreg on `credit`). */
export function jobConfig(over: Record<string, unknown> = {}): JobConfig {
  return JobConfig.parse({
    name: 'risk',
    model: { kind: 'logreg', rounds: 3 },
    data: { dataset: 'credit' },
    minParticipants: 2,
    ...over
  })
}

export function jobRecord(id: string, over: Partial<JobRecord> = {}): JobRecord {
  return {
    id,
    config: jobConfig(),
    status: 'running',
    createdAt: '2025-01-01T00:00:00.000Z',
    updatedAt: '2025-01-01T00:00:00.000Z',
    round: 0,
    participants: [],
    declined: [],
    ...over
  }
}

export function roundRecord(jobId: string, round: number): RoundRecord {
  return {
    jobId,
    round,
    participants: ['a', 'b'],
    survivors: ['a', 'b'],
    dropped: [],
    metrics: { auc: 0.5 + round / 100 },
    timings: { total: 1 },
    bytes: 10
  }
}

export async function peerId(): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

/** A manifest with a coordinator and `nodes` node members named bank-a, bank-b, … */
export async function manifestWith(nodes: number, coordinatorPeerId?: string): Promise<FederationManifest> {
  const members: FederationManifest['members'] = [
    { org: 'coord', peerId: coordinatorPeerId ?? (await peerId()), multiaddrs: [], roles: ['coordinator'] }
  ]
  for (let i = 0; i < nodes; i++)
    members.push({
      org: `bank-${String.fromCharCode(97 + i)}`,
      peerId: await peerId(),
      multiaddrs: [],
      roles: ['node']
    })
  return { federation: 'test-fed', version: 1, members }
}
