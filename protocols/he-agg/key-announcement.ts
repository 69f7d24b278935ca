/**
 * The key-holder's signed announcement of the federation HE public key. Nodes never take a key from
 * the coordinator on trust: they accept an announcement only when (1) it is signed by the peer it
 * names as key-holder, (2) that peer is a federation member with role `keyholder` and NOT
 * `coordinator`, (3) its key fingerprint is the one pinned by the job (or manifest), (4) the key
 * bytes it carries load under our HE parameters and hash to that fingerprint. Rotation = a new
 * announcement with a new keyId (and a new pin); old keys stay valid for the rounds that named them.
 */
import type { PrivateKey } from '@libp2p/interface'
import { loadPublicKey, publicKeyFingerprint } from '../../crypto/he/index.ts'
import type { HeContext, HeKeySet, HePublicKey } from '../../crypto/he/index.ts'
import { savePublicKey } from '../../crypto/he/index.ts'
import type { CanonicalValue } from '../../crypto/hash.ts'
import { ed25519KeyFromPeerId, signWithIdentity, verifyCanonical } from '../../crypto/sign.ts'
import { HeAggKeyError, HeAggRoleError } from './errors.ts'
import { KEY_LABEL } from './transcript.ts'

/**
 * A signed HE public key announcement (the wire form).
 * @example
 * const ann: KeyAnnouncement = await announceKey(identity, 'key-1', keys)
 */
export interface KeyAnnouncement {
  v: 1
  keyId: string
  preset: string
  paramsFingerprint: string
  keyFingerprint: string
  keyholder: string
  issuedAt: number
  publicKey: Uint8Array
  sig: Uint8Array
}

/**
 * Roles of a peer in the current manifest (empty when not a member).
 * @example
 * const rolesOf: RolesOf = (p) => manifest.members.find((m) => m.peerId === p)?.roles ?? []
 */
export type RolesOf = (peer: string) => readonly string[]

function fields(a: Omit<KeyAnnouncement, 'sig' | 'publicKey' | 'v'>): CanonicalValue[] {
  return [a.keyId, a.preset, a.paramsFingerprint, a.keyFingerprint, a.keyholder, a.issuedAt]
}

/**
 * Builds and signs an announcement for a key set this key-holder generated.
 *
 * @example
 * const ann = await announceKey({ peerId, privateKey }, 'k-2025-01', keys)
 */
export async function announceKey(
  identity: { peerId: string; privateKey: PrivateKey },
  keyId: string,
  keys: HeKeySet,
  issuedAt = Date.now()
): Promise<KeyAnnouncement> {
  const body = {
    keyId,
    preset: keys.context.preset.id,
    paramsFingerprint: keys.context.fingerprint,
    keyFingerprint: publicKeyFingerprint(keys.publicKey),
    keyholder: identity.peerId,
    issuedAt
  }
  const sig = await signWithIdentity(identity.privateKey, KEY_LABEL, fields(body))
  return { v: 1, ...body, publicKey: savePublicKey(keys.publicKey), sig }
}

/**
 * Asserts the key-holder's roles: a member with role `keyholder` that is not also `coordinator`.
 *
 * @throws HeAggRoleError
 * @example
 * assertKeyholderRoles(rolesOf, ann.keyholder)
 */
export function assertKeyholderRoles(rolesOf: RolesOf, keyholder: string): void {
  const roles = rolesOf(keyholder)
  if (!roles.includes('keyholder'))
    throw new HeAggRoleError(`${keyholder} is not a key-holder of this federation`)
  if (roles.includes('coordinator')) {
    throw new HeAggRoleError(`${keyholder} is also a coordinator: the key-holder must be a different party`)
  }
}

/**
 * Checks an announcement's roles, pin, parameters and signature, without loading the key bytes.
 * Synchronous: the signature is checked with the peer id's embedded Ed25519 key.
 *
 * @throws HeAggKeyError, HeAggRoleError
 * @example
 * checkAnnouncement(ctx, ann, { pinnedFingerprint, rolesOf })
 */
export function checkAnnouncement(
  context: HeContext,
  a: KeyAnnouncement,
  check: { pinnedFingerprint: string; rolesOf: RolesOf }
): void {
  assertKeyholderRoles(check.rolesOf, a.keyholder)
  if (a.keyFingerprint !== check.pinnedFingerprint) {
    throw new HeAggKeyError(
      `announced key ${a.keyFingerprint.slice(0, 16)}… is not the pinned ${check.pinnedFingerprint.slice(0, 16)}…`
    )
  }
  if (a.preset !== context.preset.id || a.paramsFingerprint !== context.fingerprint) {
    throw new HeAggKeyError('announced key is for other HE parameters')
  }
  if (!verifyCanonical(ed25519KeyFromPeerId(a.keyholder), KEY_LABEL, fields(a), a.sig)) {
    throw new HeAggKeyError(`the key announcement is not signed by ${a.keyholder}`)
  }
}

/**
 * {@link checkAnnouncement}, then loads the key bytes and checks they hash to the announced
 * fingerprint. Returns the loaded public key (the caller owns it).
 *
 * @throws HeAggKeyError, HeAggRoleError, and the HE load errors (size, malformed, parameters)
 * @example
 * using pk = verifyAnnouncement(ctx, ann, { pinnedFingerprint, rolesOf })
 */
export function verifyAnnouncement(
  context: HeContext,
  a: KeyAnnouncement,
  check: { pinnedFingerprint: string; rolesOf: RolesOf }
): HePublicKey {
  checkAnnouncement(context, a, check)
  const pk = loadPublicKey(context, a.publicKey)
  if (publicKeyFingerprint(pk) !== a.keyFingerprint) {
    pk.dispose()
    throw new HeAggKeyError('the announced key bytes do not match the announced fingerprint')
  }
  return pk
}
