import { readFile } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { verifyChain } from './chain.ts'
import type { SignedHead, VerifyResult } from './chain.ts'
import type { AuditSigner } from './audit-log.ts'
import { seqKey } from './entry.ts'
import { AuditExportFormatError } from './errors.ts'
import type { NodeStore } from '../storage/db.ts'

export const AUDIT_EXPORT_FORMAT = 'cohort-audit-export/v1'
const EXPORT_SIG_LABEL = 'cohort/audit-export/v1'

/**
 * A self-contained, signed export: every stored entry value (base64, exactly as stored), the signed
 * head, and a signature over the whole document. It verifies offline with nothing but the file: the
 * Ed25519 peer id embeds the public key. The file must be in its canonical form (as written), so a
 * change to any byte of it, whitespace included, fails verification.
 */
export interface AuditExport {
  format: typeof AUDIT_EXPORT_FORMAT
  peerId: string
  exportedAt: string
  head: SignedHead | null
  entries: string[]
  /** base64 Ed25519 signature over the label and the compact JSON of the other fields. */
  exportSig: string
}

function unsignedText(doc: Omit<AuditExport, 'exportSig'>): string {
  return JSON.stringify({
    format: doc.format,
    peerId: doc.peerId,
    exportedAt: doc.exportedAt,
    head: doc.head,
    entries: doc.entries
  })
}

function signingBytes(text: string): Uint8Array {
  return Buffer.from(`${EXPORT_SIG_LABEL}\n${text}`)
}

function canonicalText(doc: AuditExport): string {
  return `${JSON.stringify(doc, null, 2)}\n`
}

function isCanonicalBase64(s: string): boolean {
  return Buffer.from(s, 'base64').toString('base64') === s
}

/** Builds the export file's text for the node's log. */
export async function exportAudit(store: NodeStore, signer: AuditSigner): Promise<string> {
  const head = ((await store.meta.get('audit-head')) as SignedHead | undefined) ?? null
  const entries: string[] = []
  for await (const value of store.audit.values()) entries.push(Buffer.from(value).toString('base64'))
  const doc = {
    format: AUDIT_EXPORT_FORMAT,
    peerId: signer.peerId,
    exportedAt: new Date().toISOString(),
    head,
    entries
  } as const
  const sig = await signer.sign(signingBytes(unsignedText(doc)))
  return canonicalText({ ...doc, exportSig: Buffer.from(sig).toString('base64') })
}

/** Parses an export's text, rejecting anything that is not a well-formed, canonical v1 export. */
export function parseAuditExport(text: string): AuditExport {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new AuditExportFormatError('the audit export is not valid JSON (was it changed or truncated?)')
  }
  const d = doc as Partial<AuditExport>
  if (d === null || typeof d !== 'object' || d.format !== AUDIT_EXPORT_FORMAT) {
    throw new AuditExportFormatError(`not a Cohort audit export (expected format "${AUDIT_EXPORT_FORMAT}")`)
  }
  if (
    !Array.isArray(d.entries) ||
    !d.entries.every((e) => typeof e === 'string' && isCanonicalBase64(e)) ||
    typeof d.peerId !== 'string' ||
    typeof d.exportedAt !== 'string' ||
    typeof d.exportSig !== 'string' ||
    !isCanonicalBase64(d.exportSig)
  ) {
    throw new AuditExportFormatError('the audit export has malformed fields')
  }
  const h = d.head
  if (
    h !== null &&
    (typeof h !== 'object' ||
      typeof h?.peerId !== 'string' ||
      typeof h.seq !== 'number' ||
      typeof h.hash !== 'string' ||
      typeof h.sig !== 'string' ||
      !isCanonicalBase64(h.sig))
  ) {
    throw new AuditExportFormatError('the audit export has a malformed head')
  }
  if (canonicalText(d as AuditExport) !== text) {
    throw new AuditExportFormatError(
      'the audit export is not in its canonical form (it was edited after export)'
    )
  }
  return d as AuditExport
}

/** Verifies an export offline; `expectedPeerId` pins whose log it must be. */
export async function verifyAuditExport(exp: AuditExport, expectedPeerId?: string): Promise<VerifyResult> {
  if (expectedPeerId !== undefined && exp.peerId !== expectedPeerId) {
    return {
      ok: false,
      entries: 0,
      firstBad: { seq: -1, reason: `export is of ${exp.peerId}, expected ${expectedPeerId}` }
    }
  }
  let sigOk = false
  try {
    const key = peerIdFromString(exp.peerId).publicKey
    sigOk =
      key !== undefined &&
      (await key.verify(signingBytes(unsignedText(exp)), Buffer.from(exp.exportSig, 'base64')))
  } catch {
    sigOk = false
  }
  if (!sigOk)
    return { ok: false, entries: 0, firstBad: { seq: -1, reason: 'export signature does not verify' } }
  if (exp.head !== null && exp.head.peerId !== exp.peerId) {
    return {
      ok: false,
      entries: 0,
      firstBad: { seq: -1, reason: 'export names a different peer than its head' }
    }
  }
  const pairs = exp.entries.map((b64, i): [string, Uint8Array] => [
    seqKey(i),
    new Uint8Array(Buffer.from(b64, 'base64'))
  ])
  return verifyChain(pairs, exp.head ?? undefined, exp.peerId)
}

/** Reads, parses and verifies an export file. Malformed files throw AuditExportFormatError. */
export async function verifyAuditExportFile(path: string, expectedPeerId?: string): Promise<VerifyResult> {
  return verifyAuditExport(parseAuditExport(await readFile(path, 'utf8')), expectedPeerId)
}
