import { tf } from './tf-backend.ts'

/**
 * The local optimisers, written on tf variables so the trainer controls the gradient (clipping,
 * noise, proximal term) before the step. Their state lives for one fit only: every round starts
 * from the global model with fresh state (what FedAvg and FedProx assume of local solvers).
 *
 * Default 'sgd' (FedAvg's and FedProx's analyses assume local SGD, and DP-SGD is SGD): with the
 * standardised features of the datasets a constant step converges in a few epochs. 'adam' (Kingma,
 * Ba 2015, β1 = 0.9, β2 = 0.999, ε = 1e-7 as tfjs) is there for MLPs that need per-coordinate steps.
 */

/**
 * A stateful optimiser over a fixed list of variables.
 * @example
 * const opt = createOptimizer('sgd', vars, { learningRate: 0.1 })
 * tf.tidy(() => opt.step(grads)); opt.dispose()
 */
export interface Optimizer {
  /** Applies one step with gradients matching the variables one to one (call inside tf.tidy). */
  step(grads: readonly tf.Tensor[]): void
  dispose(): void
}

/**
 * Creates an optimiser for `vars`.
 * @example
 * createOptimizer('adam', [...net.kernels, ...net.biases], { learningRate: 0.01 })
 */
export function createOptimizer(
  kind: 'sgd' | 'adam',
  vars: readonly tf.Variable[],
  p: { learningRate: number; momentum?: number }
): Optimizer {
  const lr = p.learningRate
  if (kind === 'sgd') {
    const mu = p.momentum ?? 0
    const velocity = mu > 0 ? vars.map((v) => tf.variable(tf.zerosLike(v))) : []
    return {
      step(grads) {
        vars.forEach((v, i) => {
          let g = grads[i]!
          if (mu > 0) {
            const vel = velocity[i]!
            vel.assign(tf.add(tf.mul(vel, mu), g))
            g = vel
          }
          v.assign(tf.sub(v, tf.mul(g, lr)))
        })
      },
      dispose() {
        for (const v of velocity) v.dispose()
      }
    }
  }
  const b1 = 0.9
  const b2 = 0.999
  const eps = 1e-7
  const m = vars.map((v) => tf.variable(tf.zerosLike(v)))
  const s = vars.map((v) => tf.variable(tf.zerosLike(v)))
  let t = 0
  return {
    step(grads) {
      t++
      const c1 = 1 - b1 ** t
      const c2 = 1 - b2 ** t
      vars.forEach((v, i) => {
        const g = grads[i]!
        m[i]!.assign(tf.add(tf.mul(m[i]!, b1), tf.mul(g, 1 - b1)))
        s[i]!.assign(tf.add(tf.mul(s[i]!, b2), tf.mul(tf.square(g), 1 - b2)))
        const update = tf.div(tf.div(m[i]!, c1), tf.add(tf.sqrt(tf.div(s[i]!, c2)), eps))
        v.assign(tf.sub(v, tf.mul(update, lr)))
      })
    },
    dispose() {
      for (const v of [...m, ...s]) v.dispose()
    }
  }
}
