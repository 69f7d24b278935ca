/**
 * Limits of `/cohort/vertical-kmeans/1.0.0`. Encrypted distance vectors travel in batches of
 * {@link VKM_BATCH_CIPHERTEXTS} CKKS-8192 ciphertexts (each at most ~395 kB serialized), so one frame
 * stays a few MB; assignment vectors are one byte per row and candidate.
 */

/**
 * Most clusters (assignments travel as one byte per row).
 * @example
 * if (options.k > VKM_MAX_K) refuse()
 */
export const VKM_MAX_K = 256
/**
 * Most restarts run side by side.
 * @example
 * if (options.nInit > VKM_MAX_CANDIDATES) refuse()
 */
export const VKM_MAX_CANDIDATES = 64
/**
 * Most Lloyd iterations.
 * @example
 * if (options.maxIterations > VKM_MAX_ITERATIONS) refuse()
 */
export const VKM_MAX_ITERATIONS = 1000
/**
 * Most aligned rows of a session.
 * @example
 * if (slice.rows > VKM_MAX_ROWS) refuse()
 */
export const VKM_MAX_ROWS = 1 << 20
/**
 * Most parties of a session.
 * @example
 * if (parties.length > VKM_MAX_PARTIES) refuse()
 */
export const VKM_MAX_PARTIES = 16
/**
 * Ciphertexts per `distances` message.
 * @example
 * const batchValues = VKM_BATCH_CIPHERTEXTS * ctx.slotCount
 */
export const VKM_BATCH_CIPHERTEXTS = 8
/**
 * Largest frame a party accepts (a batch of ciphertexts, or one byte per row and candidate of an
 * `update`, plus the envelope).
 * @example
 * await transport.handle(PROTOCOLS.verticalKmeans, handler, { maxRequestBytes: VKM_MAX_FRAME_BYTES })
 */
export const VKM_MAX_FRAME_BYTES = 24 * 1024 * 1024
/**
 * Largest `assignments` byte string of one message.
 * @example
 * z.instanceof(Uint8Array).refine((b) => b.length <= VKM_MAX_ASSIGNMENT_BYTES)
 */
export const VKM_MAX_ASSIGNMENT_BYTES = 20 * 1024 * 1024
/**
 * The CKKS preset of every session (4096 slots, |values| <= 2^18).
 * @example
 * const ctx = await getHeContext(VKM_HE_PRESET)
 */
export const VKM_HE_PRESET = 'ckks-8192' as const
