/**
 * Where a PSI result stays: on the node, in the store's `protocolState` sublevel (never sent
 * anywhere). Layout:
 *
 *   protocol-state/psi!<jobId>           -> StoredPsiResult (JSON: counts, parties, chunk count)
 *   protocol-state/psi!<jobId>!<chunk:6> -> base64 of little-endian u32 row numbers
 *
 * The aligned index lists, in the common order the parties agreed (ascending fully blinded value),
 * the row of this node's dataset that holds each shared customer; row k of every party's index is
 * the same customer. The ops are written in the same atomic batch as the `psi-done` audit entry
 * (AuditLog.append's `with`), so a result never exists without its audit record. A later PSI for the
 * same job replaces the record (its chunks are deleted first).
 */
import type { PsiReveal } from '../../protocols/psi/plan.ts'
import type { NodeStore, StoreOp } from '../../platform/storage/db.ts'
import { PsiResultCorruptError } from './errors.ts'

/** Positions per stored chunk (256 KiB of u32). */
const CHUNK = 65_536

/**
 * The stored record of one PSI result.
 * @example
 * const { meta }: { meta: StoredPsiResult } = (await loadPsiResult(store, jobId))!
 */
export interface StoredPsiResult {
  format: 1
  sessionId: string
  jobId: string
  /** Dataset the ids came from, when known. */
  dataset: string | null
  /** Peer ids in plan order (parties[0] led). */
  parties: string[]
  setSizes: number[]
  intersectionSize: number
  /** What this node learned: the index itself, or only its size (no chunks then). */
  learned: PsiReveal
  chunks: number
  storedAt: number
}

/**
 * A PSI result as loaded: the record and, when learned, the aligned index.
 * @example
 * const r: LoadedPsiResult | undefined = await loadPsiResult(store, 'job-7')
 */
export interface LoadedPsiResult {
  meta: StoredPsiResult
  index: Uint32Array | undefined
}

const metaKey = (jobId: string) => `psi!${jobId}`
const chunkKey = (jobId: string, i: number) => `psi!${jobId}!${String(i).padStart(6, '0')}`

function toBase64(values: Uint32Array): string {
  const bytes = new Uint8Array(values.length * 4)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < values.length; i++) view.setUint32(i * 4, values[i]!, true)
  return Buffer.from(bytes).toString('base64')
}

function fromBase64(text: string): Uint32Array {
  const bytes = Buffer.from(text, 'base64')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true)
  return out
}

/**
 * The store operations that save a result (pass them as `with` to the audit append). Deletes the
 * chunks of a previous result of the same job first.
 *
 * @example
 * const ops = await psiResultOps(store, meta, index)
 * await audit.append('psi-done', body, { with: ops })
 */
export async function psiResultOps(
  store: NodeStore,
  meta: Omit<StoredPsiResult, 'format' | 'chunks' | 'storedAt'>,
  index: Uint32Array | undefined
): Promise<StoreOp[]> {
  const ops: StoreOp[] = []
  const previous = (await store.protocolState.get(metaKey(meta.jobId))) as StoredPsiResult | undefined
  for (let i = 0; i < (previous?.chunks ?? 0); i++) {
    ops.push({ type: 'del', sublevel: store.protocolState, key: chunkKey(meta.jobId, i) })
  }
  const chunks = index === undefined ? 0 : Math.ceil(index.length / CHUNK)
  for (let i = 0; i < chunks; i++) {
    const part = index!.subarray(i * CHUNK, Math.min(index!.length, (i + 1) * CHUNK))
    ops.push({
      type: 'put',
      sublevel: store.protocolState,
      key: chunkKey(meta.jobId, i),
      value: toBase64(part)
    })
  }
  const record: StoredPsiResult = { format: 1, ...meta, chunks, storedAt: Date.now() }
  ops.push({ type: 'put', sublevel: store.protocolState, key: metaKey(meta.jobId), value: record })
  return ops
}

/**
 * Loads the PSI result of a job, or undefined when there is none.
 *
 * @example
 * const r = await loadPsiResult(store, 'job-7')
 * r?.index // Uint32Array of dataset rows, aligned across parties
 */
export async function loadPsiResult(store: NodeStore, jobId: string): Promise<LoadedPsiResult | undefined> {
  const meta = (await store.protocolState.get(metaKey(jobId))) as StoredPsiResult | undefined
  if (meta === undefined) return undefined
  if (meta.learned !== 'intersection') return { meta, index: undefined }
  const index = new Uint32Array(meta.intersectionSize)
  let at = 0
  for (let i = 0; i < meta.chunks; i++) {
    const text = (await store.protocolState.get(chunkKey(jobId, i))) as string | undefined
    if (typeof text !== 'string')
      throw new PsiResultCorruptError(`PSI result of job ${jobId} is missing chunk ${i}`)
    const part = fromBase64(text)
    index.set(part, at)
    at += part.length
  }
  if (at !== meta.intersectionSize)
    throw new PsiResultCorruptError(
      `PSI result of job ${jobId} has ${at} rows, expected ${meta.intersectionSize}`
    )
  return { meta, index }
}
