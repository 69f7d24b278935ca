import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MemoryLevel } from 'memory-level'
import { createAuditLog } from '../../platform/audit/audit-log.ts'
import type { AuditLog, AuditSigner } from '../../platform/audit/audit-log.ts'
import { storeOn } from '../../platform/storage/db.ts'
import type { NodeStore, RootDb } from '../../platform/storage/db.ts'

/** A node store on memory-level plus an audit log signed by a fresh Ed25519 key, for unit tests. */
export async function memoryNode(): Promise<{ store: NodeStore; audit: AuditLog; signer: AuditSigner }> {
  const root = new MemoryLevel<string, Uint8Array>({
    keyEncoding: 'utf8',
    valueEncoding: 'view'
  }) as unknown as RootDb
  await root.open()
  const store = storeOn(root)
  const key = await generateKeyPair('Ed25519')
  const signer: AuditSigner = { peerId: peerIdFromPrivateKey(key).toString(), sign: (d) => key.sign(d) }
  return { store, audit: createAuditLog(store, signer), signer }
}
