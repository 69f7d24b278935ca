import { normaliseId } from '../../protocols/psi/plan.ts'
import type { PsiNormalisation } from '../../protocols/psi/plan.ts'

/**
 * Normalises and deduplicates ids (first occurrence wins), keeping each unique id's dataset row.
 * @example
 * prepareIds(['A', 'a ', 'b'], 'nfkc-casefold-trim') // { unique: ['a', 'b'], rows: [0, 2] }
 */
export function prepareIds(
  ids: readonly string[],
  scheme: PsiNormalisation
): { unique: string[]; rows: Uint32Array } {
  const seen = new Set<string>()
  const unique: string[] = []
  const rows: number[] = []
  for (let r = 0; r < ids.length; r++) {
    const id = normaliseId(ids[r]!, scheme)
    if (seen.has(id)) continue
    seen.add(id)
    unique.push(id)
    rows.push(r)
  }
  return { unique, rows: Uint32Array.from(rows) }
}
