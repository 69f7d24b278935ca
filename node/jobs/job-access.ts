import { DECLINE } from '../../protocols/training/wire.ts'
import type { EffectivePolicy } from './dataset-policy.ts'

/**
 * The policy gate every job passes first, horizontal or vertical: may this coordinator and this
 * federation use the dataset. One place, so a rule changes for both.
 *
 * @example
 * const refused = checkDatasetAccess({ dataset: 'credit', policy, federation, coordinator })
 * if (refused !== undefined) return { ok: false, ...refused }
 */
export function checkDatasetAccess(input: {
  dataset: string
  policy: EffectivePolicy
  federation: string
  coordinator: { peerId: string; org?: string }
}): { code: string; reason: string } | undefined {
  const { dataset: ds, policy: p, coordinator: c } = input
  if (p.coordinators !== undefined && !p.coordinators.some((x) => x === c.peerId || x === c.org))
    return {
      code: DECLINE.coordinator,
      reason: `dataset ${ds} may not be used by coordinator ${c.org ?? c.peerId}`
    }
  if (!p.federations.includes(input.federation))
    return {
      code: DECLINE.federation,
      reason: `dataset ${ds} may not be used by federation ${input.federation} (the node's policy allows: ${p.federations.join(', ') || 'none'})`
    }
  return undefined
}
