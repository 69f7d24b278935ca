import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface'
import { signWithIdentityKey } from '../../crypto/sign-identity.ts'
import type { AuditSigner } from '../audit/audit-log.ts'
import { IdentityError } from './errors.ts'

/** A node's long-term identity: the Ed25519 libp2p key that names it and signs for it. */
export interface NodeIdentity extends AuditSigner {
  readonly privateKey: Ed25519PrivateKey
  readonly id: PeerId
  readonly peerId: string
}

function fromKey(privateKey: Ed25519PrivateKey): NodeIdentity {
  const id = peerIdFromPrivateKey(privateKey)
  return { privateKey, id, peerId: id.toString(), sign: (data) => signWithIdentityKey(privateKey, data) }
}

/** Creates a new identity key file with mode 0600; refuses to overwrite an existing one. */
export async function createIdentity(path: string): Promise<NodeIdentity> {
  if (existsSync(path))
    throw new IdentityError(`an identity key already exists at ${path}; refusing to overwrite it`)
  const key = await generateKeyPair('Ed25519')
  writeFileSync(path, privateKeyToProtobuf(key), { mode: 0o600, flag: 'wx' })
  chmodSync(path, 0o600)
  return fromKey(key)
}

/** Loads the identity key, refusing a file other users could read. */
export function loadIdentity(path: string): NodeIdentity {
  if (!existsSync(path)) throw new IdentityError(`no identity key at ${path}; run "cohort node init" first`)
  const mode = statSync(path).mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new IdentityError(
      `identity key ${path} is readable by other users (mode ${mode.toString(8)}); run "chmod 600 ${path}"`
    )
  }
  let key: ReturnType<typeof privateKeyFromProtobuf>
  try {
    key = privateKeyFromProtobuf(readFileSync(path))
  } catch {
    throw new IdentityError(`identity key ${path} is corrupt or not a libp2p private key`)
  }
  if (key.type !== 'Ed25519')
    throw new IdentityError(`identity key ${path} is ${key.type}; Cohort requires Ed25519`)
  return fromKey(key)
}
