import type { DenseLayerShape, NamedParams } from '../../protocols/training/model-spec.ts'
import { tf } from './tf-backend.ts'

/**
 * A dense binary classifier on tfjs (logistic regression = no hidden layer): variables, forward pass
 * and a hand-written backward pass that yields the *per-example-clipped* gradient sum in one batched
 * computation.
 *
 * Why by hand: DP-SGD needs every example's gradient norm. With tf.grad that means a batch of size
 * one per example (slow: hundreds of tiny kernels per example). For dense layers the per-example
 * gradient of layer l's kernel is the outer product a_{l-1,i} ⊗ δ_{l,i}, whose Frobenius norm is
 * ||a_{l-1,i}||·||δ_{l,i}|| (Goodfellow 2015, "Efficient Per-Example Gradient Computations"; Lee,
 * Kifer 2021 "Scaling up DP-SGD with fast per-example gradient clipping"), and the bias gradient is
 * δ_{l,i}. So
 *   ||g_i||^2 = Σ_l (||a_{l-1,i}||^2 + 1)·||δ_{l,i}||^2,   c_i = min(1, C / ||g_i||),
 *   Σ_i c_i g_i = { A_{l-1}^T (c ⊙ Δ_l),  Σ_i c_i δ_{l,i} }  per layer,
 * which costs two extra matrix products per layer and never materialises a per-example gradient.
 * Without clipping c = 1 and this is ordinary backpropagation. Loss: binary cross-entropy on the
 * logit z, softplus(z) − y·z, so δ_L = sigmoid(z) − y.
 */

/**
 * The tfjs variables of a dense network (float32).
 * @example
 * const net = createNet(denseLayers(spec), params)
 */
export interface DenseNet {
  readonly layers: readonly DenseLayerShape[]
  readonly kernels: tf.Variable[]
  readonly biases: tf.Variable[]
}

/**
 * Variables holding `params` (copied to float32).
 * @example
 * const net = createNet(denseLayers(spec), spec.init(seed))
 */
export function createNet(layers: readonly DenseLayerShape[], params: NamedParams): DenseNet {
  const kernels = layers.map((l) =>
    tf.variable(tf.tensor2d(Float32Array.from(params[l.kernel]!), [l.inputs, l.outputs]))
  )
  const biases = layers.map((l) => tf.variable(tf.tensor1d(Float32Array.from(params[l.bias]!))))
  return { layers, kernels, biases }
}

/**
 * Current values of the variables as Float64 named params.
 * @example
 * const local = readParams(net)
 */
export function readParams(net: DenseNet): NamedParams {
  const out: Record<string, Float64Array> = {}
  net.layers.forEach((l, i) => {
    out[l.kernel] = Float64Array.from(net.kernels[i]!.dataSync())
    out[l.bias] = Float64Array.from(net.biases[i]!.dataSync())
  })
  return Object.freeze(out)
}

/**
 * Frees the variables.
 * @example
 * disposeNet(net)
 */
export function disposeNet(net: DenseNet): void {
  for (const v of [...net.kernels, ...net.biases]) v.dispose()
}

/**
 * Logits [B, 1] of a batch (call inside tf.tidy).
 * @example
 * const z = tf.tidy(() => logits(net, xb))
 */
export function logits(net: DenseNet, x: tf.Tensor2D): tf.Tensor2D {
  let a = x
  const last = net.layers.length - 1
  for (let l = 0; l <= last; l++) {
    const z = tf.add(tf.matMul(a, net.kernels[l]!), net.biases[l]!) as tf.Tensor2D
    a = l < last ? tf.relu(z) : z
  }
  return a
}

/**
 * Result of {@link batchGradients} (tensors owned by the enclosing tf.tidy).
 * @example
 * const { kernelGrads, biasGrads, lossSum } = batchGradients(net, xb, yb, 1)
 */
export interface BatchGradients {
  /** Σ_i c_i · ∂loss_i/∂W_l per layer, [in, out]. */
  kernelGrads: tf.Tensor2D[]
  /** Σ_i c_i · ∂loss_i/∂b_l per layer, [out]. */
  biasGrads: tf.Tensor1D[]
  /** Σ_i loss_i (unclipped). */
  lossSum: tf.Scalar
  /** Number of examples whose gradient norm exceeded the clip norm (0 without clipping). */
  clipped: tf.Scalar
}

/**
 * Summed (optionally per-example-clipped) gradients of the cross-entropy over a batch.
 * Call inside tf.tidy.
 *
 * @param y - labels [B, 1]
 * @param clipNorm - per-example L2 clip C, or undefined for plain gradients
 * @example
 * tf.tidy(() => batchGradients(net, xb, yb, 1.0))
 */
export function batchGradients(
  net: DenseNet,
  x: tf.Tensor2D,
  y: tf.Tensor2D,
  clipNorm?: number
): BatchGradients {
  const L = net.layers.length
  const acts: tf.Tensor2D[] = [x]
  const pre: tf.Tensor2D[] = []
  for (let l = 0; l < L; l++) {
    const z = tf.add(tf.matMul(acts[l]!, net.kernels[l]!), net.biases[l]!) as tf.Tensor2D
    pre.push(z)
    if (l < L - 1) acts.push(tf.relu(z))
  }
  const z = pre[L - 1]!
  const lossSum = tf.sum(tf.sub(tf.softplus(z), tf.mul(y, z))) as tf.Scalar
  const deltas: tf.Tensor2D[] = new Array(L)
  deltas[L - 1] = tf.sub(tf.sigmoid(z), y)
  for (let l = L - 1; l > 0; l--) {
    deltas[l - 1] = tf.mul(
      tf.matMul(deltas[l]!, net.kernels[l]!, false, true),
      tf.step(pre[l - 1]!)
    ) as tf.Tensor2D
  }
  let weighted = deltas
  let clipped: tf.Scalar = tf.scalar(0)
  if (clipNorm !== undefined) {
    let norm2: tf.Tensor1D = tf.zeros([x.shape[0]])
    for (let l = 0; l < L; l++) {
      const a2 = tf.add(tf.sum(tf.square(acts[l]!), 1), 1)
      const d2 = tf.sum(tf.square(deltas[l]!), 1)
      norm2 = tf.add(norm2, tf.mul(a2, d2))
    }
    // c_i = min(1, C / ||g_i||); the max() keeps a zero gradient from dividing by zero.
    const factor = tf.minimum(1, tf.div(clipNorm, tf.sqrt(tf.maximum(norm2, 1e-30)))).reshape([-1, 1])
    weighted = deltas.map((dl) => tf.mul(dl, factor) as tf.Tensor2D)
    clipped = tf.sum(tf.cast(tf.greater(norm2, clipNorm * clipNorm), 'float32')) as tf.Scalar
  }
  const kernelGrads = weighted.map((dl, l) => tf.matMul(acts[l]!, dl, true, false) as tf.Tensor2D)
  const biasGrads = weighted.map((dl) => tf.sum(dl, 0) as tf.Tensor1D)
  return { kernelGrads, biasGrads, lossSum, clipped }
}
