import type { JobConfig } from '../../configs/job.ts'
import { getHeContext } from '../../crypto/he/index.ts'
import type { HeContext } from '../../crypto/he/index.ts'
import type { KeyAnnouncement } from '../../protocols/he-agg/key-announcement.ts'
import type { PeerRef } from '../../protocols/transport.ts'
import { fetchKeyAnnouncement } from '../he-agg/run-round.ts'
import { HeKeyMismatchError, JobUnsupportedError } from './errors.ts'
import type { JobRuntime } from './runtime.ts'

/**
 * What a job's homomorphic sums need: the key-holder, its current key announcement (checked against
 * the job's pin before anything is offered) and the BFV context.
 *
 * @example
 * rt.he = await setupHe(rt, job.config)
 */
export interface HeSetup {
  keyholder: PeerRef
  announcement: KeyAnnouncement
  context: HeContext
}

/**
 * Finds the key-holder (the job's `he.keyholder` org, else the manifest's only `keyholder` that is
 * not a coordinator), fetches its announcement and checks the fingerprint the job pins.
 *
 * @throws JobUnsupportedError (no usable key-holder) | HeKeyMismatchError
 * @example
 * const he = await setupHe(rt, config)
 */
export async function setupHe(rt: JobRuntime, config: JobConfig): Promise<HeSetup> {
  const pin = config.he
  if (pin === undefined) throw new JobUnsupportedError('secureAggregation "he" needs he.keyFingerprint')
  const holders = rt.ctx
    .manifest()
    .members.filter((m) => m.roles.includes('keyholder') && !m.roles.includes('coordinator'))
  const kh =
    pin.keyholder === undefined
      ? holders.length === 1
        ? holders[0]
        : undefined
      : holders.find((m) => m.org === pin.keyholder)
  if (kh === undefined)
    throw new JobUnsupportedError(
      pin.keyholder === undefined
        ? `the federation has ${holders.length} key-holders; name one in he.keyholder`
        : `${pin.keyholder} is not a key-holder of the federation (role keyholder, not coordinator)`
    )
  if (kh.heKeyFingerprint !== undefined && kh.heKeyFingerprint !== pin.keyFingerprint)
    throw new HeKeyMismatchError(
      `the manifest pins ${kh.org}'s HE key ${kh.heKeyFingerprint.slice(0, 16)}…, the job pins ${pin.keyFingerprint.slice(0, 16)}…`
    )
  const announcement = await fetchKeyAnnouncement(rt.transport, kh.peerId, {
    signal: AbortSignal.any([rt.signal, AbortSignal.timeout(config.deadlines.phaseMs)])
  })
  if (announcement.keyFingerprint !== pin.keyFingerprint)
    throw new HeKeyMismatchError(
      `key-holder ${kh.org} announces key ${announcement.keyFingerprint.slice(0, 16)}…, the job pins ${pin.keyFingerprint.slice(0, 16)}…; pin the current key or ask the key-holder`
    )
  return { keyholder: kh.peerId, announcement, context: await getHeContext('bfv-8192') }
}
