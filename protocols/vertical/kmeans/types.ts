/**
 * Options and model of a vertical k-means session.
 */

/**
 * Options of the lead (members receive them in the plan).
 * @example
 * const o: VerticalKMeansOptions = { k: 4, seed: 'job-7', dp: { epsilon: 1, delta: 1e-5 } }
 */
export interface VerticalKMeansOptions {
  k: number
  /** Lloyd iterations per restart. @default 50 */
  maxIterations?: number
  /** Restarts run side by side; the one of lowest training inertia is kept. @default 10 */
  nInit?: number
  /** A restart stops when its inertia improves by less than this fraction (or its assignments stop changing). @default 1e-4 */
  tolerance?: number
  /** Public seed of the initial and re-seeded centroids (every party draws the same rows). */
  seed: string
  /** DP on the released segment sizes and profiles (protocols/vertical/kmeans/profile.ts). */
  dp?: { epsilon: number; delta: number; clip?: number }
}

/**
 * A party's model: its own slice of the centroids (in its own standardized feature space).
 * @example
 * model.centroids[2][0] // centroid 2, own feature 0
 */
export interface VerticalKMeansModel {
  kind: 'vertical-kmeans'
  featureNames: string[]
  /** k × own cols. */
  centroids: number[][]
  sessionId: string
}
