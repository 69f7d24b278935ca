/**
 * Limits of `/cohort/psi/1.0.0`. A batch of blinded points is one frame: 32 bytes per point, so the
 * default 32,768 points are 1 MiB, well under libp2p's 4 MiB default; the frame cap leaves room for
 * the msgpack envelope. Result positions travel as little-endian u32 in chunks of the same size.
 */
import { PSI_POINT_BYTES } from '../../crypto/psi/blind.ts'

/**
 * Default points per batch.
 * @example
 * leader.lead({ ...options, batchPoints: PSI_BATCH_POINTS })
 */
export const PSI_BATCH_POINTS = 32_768
/**
 * Largest batch a plan may ask for (2 MiB of points).
 * @example
 * if (plan.batchPoints > MAX_PSI_BATCH_POINTS) refuse()
 */
export const MAX_PSI_BATCH_POINTS = 65_536
/**
 * Positions per `result` / `unshuffle` message.
 * @example
 * positions.subarray(off, off + PSI_POSITIONS_PER_MESSAGE)
 */
export const PSI_POSITIONS_PER_MESSAGE = 262_144
/**
 * Largest frame a PSI peer accepts (a full batch plus its envelope).
 * @example
 * await transport.handle(PROTOCOLS.psi, handler, { maxRequestBytes: MAX_PSI_FRAME_BYTES })
 */
export const MAX_PSI_FRAME_BYTES = MAX_PSI_BATCH_POINTS * PSI_POINT_BYTES + 64 * 1024
/**
 * Parties per session.
 * @example
 * if (parties.length > MAX_PSI_PARTIES) refuse()
 */
export const MAX_PSI_PARTIES = 16
/**
 * Default cap on one party's set (ids), checked on `open`/`start` by every party.
 * @example
 * const cap = input.maxSetSize ?? DEFAULT_MAX_PSI_SET_SIZE
 */
export const DEFAULT_MAX_PSI_SET_SIZE = 10_000_000
