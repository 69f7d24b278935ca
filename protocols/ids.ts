/**
 * Protocol ids and their size limits. An id is `/cohort/<name>/<semver>`; a change to a message's
 * meaning bumps the version. Limits bound every frame a peer may send us: libp2p's default 4 MiB is
 * too small for model vectors (an MLP update of 1M ring elements is 4 MiB before framing) and far
 * too large for key advertisements.
 */
export const PROTOCOL_PREFIX = '/cohort'

export const PROTOCOLS = {
  secagg: '/cohort/secagg/2.0.0',
  train: '/cohort/train/1.0.0',
  eval: '/cohort/eval/1.0.0',
  heAgg: '/cohort/he-agg/1.0.0',
  psi: '/cohort/psi/1.0.0',
  verticalLr: '/cohort/vertical-lr/1.0.0',
  verticalLrScore: '/cohort/vertical-lr-score/1.0.0',
  /** Vertical jobs: coordinator -> node control, and label node -> feature node scoring (protocols/vertical/job-wire.ts). */
  verticalJob: '/cohort/vertical-job/1.0.0',
  /** Vertical k-means sessions among the parties of a vertical job (protocols/vertical/kmeans/). */
  verticalKmeans: '/cohort/vertical-kmeans/1.0.0',
  /** Test-only echo protocol used by the transport conformance suite. */
  echo: '/cohort/echo/1.0.0'
} as const
export type ProtocolId = (typeof PROTOCOLS)[keyof typeof PROTOCOLS]

/** Key advertisements and share bundles: n ≤ 1000 parties × a few hundred bytes each. */
export const MAX_SECAGG_CONTROL_BYTES = 2 * 1024 * 1024
/** Masked input vectors: up to 16M ring elements of 4 bytes, plus framing. */
export const MAX_VECTOR_BYTES = 64 * 1024 * 1024 + 4096
/** Training instructions and their replies (metrics, signed heads). */
export const MAX_TRAIN_CONTROL_BYTES = 1024 * 1024
/** Default per-protocol frame limit when a handler does not set one. */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024
