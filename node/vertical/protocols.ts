/**
 * The vertical protocols, loaded on first use: they pull in the HE backend (node-seal's WASM), which
 * a node that never runs a vertical job should not pay for at start.
 */
let lr: Promise<typeof import('../../protocols/vertical/lr/index.ts')> | undefined
let kmeans: Promise<typeof import('../../protocols/vertical/kmeans/index.ts')> | undefined

/** @example const { runVerticalLrLabel } = await verticalLr() */
export function verticalLr(): Promise<typeof import('../../protocols/vertical/lr/index.ts')> {
  lr ??= import('../../protocols/vertical/lr/index.ts')
  return lr
}

/** @example const { runVerticalKMeansLead } = await verticalKMeans() */
export function verticalKMeans(): Promise<typeof import('../../protocols/vertical/kmeans/index.ts')> {
  kmeans ??= import('../../protocols/vertical/kmeans/index.ts')
  return kmeans
}
