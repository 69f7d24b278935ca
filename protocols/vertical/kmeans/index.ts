/**
 * Vertical k-means (issue 7): segmentation of the customers shared by parties that hold different
 * features of them. Distances are sums of per-party partial distances; each party keeps its slice
 * of the centroids; the lead (label party) learns only affine-masked distance vectors (CKKS chain,
 * see ./lead.ts and protocols/vertical/README.md) and picks the argmin; released segment sizes and
 * profiles can be made differentially private (./profile.ts).
 *
 * @example
 * const lead = runVerticalKMeansLead({ transport: t0, sessionId, parties, slice: s0, options: { k: 4, seed: 'job-7' } })
 * const member = runVerticalKMeansMember({ transport: t1, sessionId, parties, slice: s1 })
 * const [{ inertia, assignments }, { model }] = await Promise.all([lead, member])
 */
export * from './errors.ts'
export { runVerticalKMeansLead } from './lead.ts'
export type { VerticalKMeansLeadContext, VerticalKMeansLeadResult } from './lead.ts'
export { VKM_MAX_CANDIDATES, VKM_MAX_FRAME_BYTES, VKM_MAX_K, VKM_MAX_ROWS } from './limits.ts'
export { runVerticalKMeansMember } from './member.ts'
export type { VerticalKMeansMemberContext, VerticalKMeansMemberResult } from './member.ts'
export { leadOf } from './plan.ts'
export type { VerticalSegmentProfile } from './profile.ts'
export type { VerticalKMeansModel, VerticalKMeansOptions } from './types.ts'
