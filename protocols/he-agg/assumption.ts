/**
 * The trust assumption every HE aggregation rests on, in words, for the audit log of every party
 * and for the job description (README.md, "Trust model").
 */

/**
 * Version of the statement (bump when its meaning changes).
 * @example
 * nonCollusionStatement(c, k).version === NON_COLLUSION_VERSION
 */
export const NON_COLLUSION_VERSION = 1

/**
 * The non-collusion statement for one round, naming the two parties that must not collude.
 *
 * @example
 * audit.append('he-agg-input-sent', { ..., assumption: nonCollusionStatement(coordinator, keyholder) })
 */
export function nonCollusionStatement(
  coordinator: string,
  keyholder: string
): {
  version: number
  coordinator: string
  keyholder: string
  text: string
} {
  return {
    version: NON_COLLUSION_VERSION,
    coordinator,
    keyholder,
    text:
      `This input is encrypted under the HE key of key-holder ${keyholder} and aggregated by coordinator ` +
      `${coordinator}. It stays private only if these two do not collude: the key-holder can decrypt any ` +
      'ciphertext it is given, and only the coordinator sees individual ciphertexts. The key-holder ' +
      'decrypts only sums of at least minParticipants distinct signed contributions whose signed linear ' +
      'digests add up to the digest of the sum, once per round.'
  }
}
