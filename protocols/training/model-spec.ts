import { sampleStandardNormal } from '../../crypto/dp/mechanisms/gaussian.ts'
import { ModelShapeError, TrainingConfigError } from './errors.ts'
import { publicSeedSource } from './public-seed.ts'

/**
 * What parties must agree on about a model: its kind, the named tensors of its parameters and their
 * order in the flat vector that secure aggregation sums. Parameters are plain Float64Arrays keyed by
 * tensor name; only `Float64Array`s cross module boundaries (tfjs tensors stay inside the trainers).
 *
 * Layouts (tensor name: shape, row-major, in flat order):
 * - `logreg` (d features): `dense0/kernel`: [d, 1], `dense0/bias`: [1] — a dense network without a
 *   hidden layer, so logistic regression and the MLP share one trainer engine;
 * - `mlp` (d, hidden [h1, .., hm]): `dense<l>/kernel`: [in_l, out_l], `dense<l>/bias`: [out_l] for
 *   l = 0..m, ReLU after every hidden layer, one output logit (sigmoid probability);
 * - `kmeans` (k, d, R candidates): `centroids`: [R·k, d], candidate r owning rows r·k .. r·k + k - 1
 *   (R > 1 runs R initialisations side by side, the federated analogue of scikit-learn's n_init).
 */

/**
 * Model kinds.
 * @example
 * const kind: ModelKind = 'mlp'
 */
export type ModelKind = 'kmeans' | 'logreg' | 'mlp'

/**
 * One named tensor of a layout.
 * @example
 * const t: TensorShape = { name: 'dense0/kernel', shape: [26, 1] }
 */
export interface TensorShape {
  readonly name: string
  readonly shape: readonly number[]
}

/**
 * Named shapes in flat order, and the flat length.
 * @example
 * makeLayout([{ name: 'w', shape: [3] }]).length // 3
 */
export interface TensorLayout {
  readonly tensors: readonly TensorShape[]
  readonly length: number
}

/**
 * Model parameters: tensor name -> row-major values.
 * @example
 * const p: NamedParams = { 'dense0/kernel': new Float64Array(26), 'dense0/bias': new Float64Array(1) }
 */
export type NamedParams = Readonly<Record<string, Float64Array>>

/**
 * The JSON-able description of a model, as a job file or a FitInstruction carries it.
 * @example
 * const m: ModelDescriptor = { kind: 'mlp', features: 26, hidden: [32] }
 */
export type ModelDescriptor =
  | { readonly kind: 'logreg'; readonly features: number }
  | { readonly kind: 'mlp'; readonly features: number; readonly hidden: readonly number[] }
  | {
      readonly kind: 'kmeans'
      readonly features: number
      readonly k: number
      /** Initialisations trained side by side. @default 1 */
      readonly candidates?: number
      /** Standard deviation of the random initial centroids (standardised feature space). @default 1 */
      readonly initScale?: number
    }

/**
 * A model's layout and (de)serialisation (style.md C2).
 * @example
 * const spec = modelSpec({ kind: 'logreg', features: 26 })
 * const v = spec.flatten(spec.init(seed)) // Float64Array(27)
 */
export interface ModelSpec<P = NamedParams> {
  readonly kind: ModelKind
  readonly descriptor: ModelDescriptor
  readonly layout: TensorLayout
  /** Deterministic initial parameters from a public seed (every party computes the same). */
  init(seed: Uint8Array): P
  flatten(p: P): Float64Array
  unflatten(v: Float64Array): P
}

/**
 * One dense layer's tensor names and sizes.
 * @example
 * denseLayers(spec)[0] // { kernel: 'dense0/kernel', bias: 'dense0/bias', inputs: 26, outputs: 32 }
 */
export interface DenseLayerShape {
  readonly kernel: string
  readonly bias: string
  readonly inputs: number
  readonly outputs: number
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1)
}

function positiveInt(x: unknown, what: string, max = 1 << 24): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1 || x > max) {
    throw new TrainingConfigError(`${what} must be an integer in [1, ${max}], got ${String(x)}`)
  }
  return x
}

/**
 * Builds a layout from named shapes (names unique, dimensions positive integers).
 *
 * @example
 * makeLayout([{ name: 'a', shape: [2, 3] }, { name: 'b', shape: [3] }]).length // 9
 */
export function makeLayout(tensors: readonly TensorShape[]): TensorLayout {
  const seen = new Set<string>()
  for (const t of tensors) {
    if (seen.has(t.name)) throw new TrainingConfigError(`tensor ${t.name} appears twice in the layout`)
    seen.add(t.name)
    for (const s of t.shape) positiveInt(s, `dimension of ${t.name}`)
  }
  const frozen = tensors.map((t) => Object.freeze({ name: t.name, shape: Object.freeze([...t.shape]) }))
  return Object.freeze({
    tensors: Object.freeze(frozen),
    length: frozen.reduce((a, t) => a + size(t.shape), 0)
  })
}

/**
 * Concatenates named tensors in layout order.
 *
 * @throws ModelShapeError when a tensor is missing or has the wrong length
 * @example
 * flattenParams(layout, params) // Float64Array(layout.length)
 */
export function flattenParams(layout: TensorLayout, p: NamedParams): Float64Array {
  const out = new Float64Array(layout.length)
  let at = 0
  for (const t of layout.tensors) {
    const v = p[t.name]
    const n = size(t.shape)
    if (!(v instanceof Float64Array)) throw new ModelShapeError(`parameter ${t.name} is missing`)
    if (v.length !== n) throw new ModelShapeError(`parameter ${t.name} has ${v.length} values, expected ${n}`)
    out.set(v, at)
    at += n
  }
  return out
}

/**
 * Splits a flat vector into named tensors (copies, so the result never aliases `v`).
 *
 * @throws ModelShapeError when the length differs from the layout's
 * @example
 * unflattenParams(layout, v)['dense0/bias'] // Float64Array(1)
 */
export function unflattenParams(layout: TensorLayout, v: Float64Array): NamedParams {
  if (!(v instanceof Float64Array)) throw new ModelShapeError('a parameter vector must be a Float64Array')
  if (v.length !== layout.length) {
    throw new ModelShapeError(`expected ${layout.length} parameters, got ${v.length}`)
  }
  const out: Record<string, Float64Array> = {}
  let at = 0
  for (const t of layout.tensors) {
    const n = size(t.shape)
    out[t.name] = v.slice(at, at + n)
    at += n
  }
  return Object.freeze(out)
}

/**
 * The dense layers of a logreg or mlp spec, input to output.
 *
 * @example
 * denseLayers(modelSpec({ kind: 'mlp', features: 26, hidden: [32] })).length // 2
 */
export function denseLayers(spec: ModelSpec<NamedParams>): DenseLayerShape[] {
  const d = spec.descriptor
  if (d.kind === 'kmeans') throw new TrainingConfigError('a k-means model has no dense layers')
  const sizes = [d.features, ...(d.kind === 'mlp' ? d.hidden : []), 1]
  const out: DenseLayerShape[] = []
  for (let l = 0; l + 1 < sizes.length; l++) {
    out.push({
      kernel: `dense${l}/kernel`,
      bias: `dense${l}/bias`,
      inputs: sizes[l]!,
      outputs: sizes[l + 1]!
    })
  }
  return out
}

function denseLayout(sizes: number[]): TensorLayout {
  const tensors: TensorShape[] = []
  for (let l = 0; l + 1 < sizes.length; l++) {
    tensors.push({ name: `dense${l}/kernel`, shape: [sizes[l]!, sizes[l + 1]!] })
    tensors.push({ name: `dense${l}/bias`, shape: [sizes[l + 1]!] })
  }
  return makeLayout(tensors)
}

function specOf(
  kind: ModelKind,
  descriptor: ModelDescriptor,
  layout: TensorLayout,
  init: (seed: Uint8Array) => NamedParams
) {
  return Object.freeze({
    kind,
    descriptor: Object.freeze(descriptor),
    layout,
    init,
    flatten: (p: NamedParams) => flattenParams(layout, p),
    unflatten: (v: Float64Array) => unflattenParams(layout, v)
  }) satisfies ModelSpec<NamedParams>
}

/**
 * Logistic regression over `features` inputs. `init` gives all zeros (the seed is not used): the
 * objective is convex, so the start does not matter, and zeros make runs comparable.
 *
 * @example
 * logregSpec({ features: 26 }).layout.length // 27
 */
export function logregSpec(p: { features: number }): ModelSpec<NamedParams> {
  const d = positiveInt(p.features, 'features')
  const layout = denseLayout([d, 1])
  return specOf('logreg', { kind: 'logreg', features: d }, layout, () =>
    unflattenParams(layout, new Float64Array(layout.length))
  )
}

/**
 * A fully connected binary classifier: ReLU hidden layers of the given widths, one logit out.
 * `init`: Glorot-uniform kernels (Glorot, Bengio 2010: U(±sqrt(6 / (in + out)))) drawn from the
 * public seed's stream, zero biases.
 *
 * @example
 * mlpSpec({ features: 119, hidden: [32] }).layout.length // 119*32 + 32 + 32 + 1
 */
export function mlpSpec(p: { features: number; hidden: readonly number[] }): ModelSpec<NamedParams> {
  const d = positiveInt(p.features, 'features')
  if (!Array.isArray(p.hidden) || p.hidden.length > 8)
    throw new TrainingConfigError('hidden must list 0 to 8 layer widths')
  const hidden = p.hidden.map((h, i) => positiveInt(h, `hidden[${i}]`, 4096))
  const sizes = [d, ...hidden, 1]
  const layout = denseLayout(sizes)
  const init = (seed: Uint8Array): NamedParams => {
    const rng = publicSeedSource(seed)
    const out: Record<string, Float64Array> = {}
    for (let l = 0; l + 1 < sizes.length; l++) {
      const fanIn = sizes[l]!
      const fanOut = sizes[l + 1]!
      const limit = Math.sqrt(6 / (fanIn + fanOut))
      const w = new Float64Array(fanIn * fanOut)
      for (let i = 0; i < w.length; i++) w[i] = (2 * (rng.bits(53) / 2 ** 53) - 1) * limit
      out[`dense${l}/kernel`] = w
      out[`dense${l}/bias`] = new Float64Array(fanOut)
    }
    return Object.freeze(out)
  }
  return specOf('mlp', { kind: 'mlp', features: d, hidden }, layout, init)
}

/**
 * k-means with `k` clusters over `features` standardised features, `candidates` initialisations
 * side by side. `init` draws every centroid coordinate from N(0, initScale^2) with the public seed's
 * stream. It looks at no data: after the federation's standardisation with *global* means and
 * standard deviations every feature has mean 0 and variance 1, so this is a draw from the global
 * feature statistics (the issue's rule: k-means++ would need other parties' raw rows). Its weakness
 * is the usual one of random initialisation (a poor local optimum now and then); candidates > 1
 * counters it, the strategy keeping the one of lowest securely aggregated inertia.
 *
 * @example
 * kmeansSpec({ k: 4, features: 26, candidates: 8 }).layout.length // 8 * 4 * 26
 */
export function kmeansSpec(p: {
  k: number
  features: number
  candidates?: number
  initScale?: number
}): ModelSpec<NamedParams> {
  const k = positiveInt(p.k, 'k', 4096)
  const d = positiveInt(p.features, 'features')
  const candidates = positiveInt(p.candidates ?? 1, 'candidates', 64)
  const initScale = p.initScale ?? 1
  if (!(Number.isFinite(initScale) && initScale > 0))
    throw new TrainingConfigError(`initScale must be > 0, got ${initScale}`)
  const layout = makeLayout([{ name: 'centroids', shape: [candidates * k, d] }])
  const init = (seed: Uint8Array): NamedParams => {
    const rng = publicSeedSource(seed)
    const c = new Float64Array(layout.length)
    for (let i = 0; i < c.length; i++) c[i] = initScale * sampleStandardNormal(rng)
    return Object.freeze({ centroids: c })
  }
  const descriptor: ModelDescriptor = { kind: 'kmeans', features: d, k, candidates, initScale }
  return specOf('kmeans', descriptor, layout, init)
}

/**
 * The spec of a descriptor (what a node does with the model field of an instruction).
 *
 * @example
 * modelSpec({ kind: 'kmeans', features: 26, k: 4 })
 */
export function modelSpec(d: ModelDescriptor): ModelSpec<NamedParams> {
  if (d === null || typeof d !== 'object') throw new TrainingConfigError('model descriptor must be an object')
  switch (d.kind) {
    case 'logreg':
      return logregSpec(d)
    case 'mlp':
      return mlpSpec(d)
    case 'kmeans':
      return kmeansSpec(d)
    default:
      throw new TrainingConfigError(`unknown model kind ${JSON.stringify((d as { kind: unknown }).kind)}`)
  }
}
