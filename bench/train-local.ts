/**
 * `npm run bench -- train-local [--datasets lending_club,credit_data] [--repeat 3] [--batch 64] [--json]`:
 * wall time of one local epoch of the project's trainers (tfjs, wasm backend) for logistic
 * regression and an MLP with one hidden layer of 32, without DP and with record-level DP-SGD
 * (per-example clipping by the batched norm identity of node/training/dense-net.ts), plus the
 * naive alternative for the MLP's per-example gradients (tf.grad on batches of one), measured on a
 * sample of rows and scaled to an epoch. Median of `repeat` runs after one warm-up.
 */
import { createDenseTrainer } from '../node/training/dense-trainer.ts'
import { createNet, disposeNet, logits } from '../node/training/dense-net.ts'
import { float32Of } from '../node/training/matrix.ts'
import { initTf, tf } from '../node/training/tf-backend.ts'
import type { FitConfig } from '../protocols/training/instructions.ts'
import { denseLayers, modelSpec } from '../protocols/training/model-spec.ts'
import type { ModelDescriptor } from '../protocols/training/model-spec.ts'
import { publicSeedSource, seedBytes } from '../protocols/training/public-seed.ts'
import { loadSharedDataset } from '../simulations/baselines/load-dataset.ts'
import type { LocalDataset } from '../node/training/matrix.ts'
import { flag, report } from './_report.ts'

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

async function epochMs(
  model: ModelDescriptor,
  train: LocalDataset,
  fit: FitConfig,
  repeat: number
): Promise<number> {
  const spec = modelSpec(model)
  const trainer = createDenseTrainer(spec, { rng: publicSeedSource(seedBytes('bench')) })
  const g = spec.init(seedBytes('bench'))
  await trainer.fit(g, train, fit) // warm-up: kernels, allocations
  const times: number[] = []
  for (let i = 0; i < repeat; i++) {
    const t = performance.now()
    await trainer.fit(g, train, fit)
    times.push((performance.now() - t) / fit.epochs)
  }
  return median(times)
}

/** Per-example gradients the slow way: tf.variableGrads on each row alone, then clip and sum. */
function naivePerExampleMs(
  model: ModelDescriptor,
  train: LocalDataset,
  sample: number,
  clipNorm: number
): number {
  const spec = modelSpec(model)
  const net = createNet(denseLayers(spec), spec.init(seedBytes('bench')))
  const vars = net.kernels.flatMap((k, i) => [k, net.biases[i]!])
  const { x } = float32Of(train)
  const d = train.features
  const run = (rows: number) => {
    const t = performance.now()
    for (let r = 0; r < rows; r++) {
      tf.tidy(() => {
        const xb = tf.tensor2d(x.subarray(r * d, (r + 1) * d), [1, d])
        const yb = tf.tensor2d([train.y![r]!], [1, 1])
        const { grads } = tf.variableGrads(() => {
          const z = logits(net, xb)
          return tf.sum(tf.sub(tf.softplus(z), tf.mul(yb, z))) as tf.Scalar
        }, vars)
        const gs = vars.map((v) => grads[v.name]!)
        const norm = Math.sqrt(gs.reduce((s, g) => s + tf.sum(tf.square(g)).dataSync()[0]!, 0))
        const c = Math.min(1, clipNorm / norm)
        return gs.map((g) => tf.mul(g, c))
      })
    }
    return performance.now() - t
  }
  run(Math.min(16, sample))
  const ms = run(sample)
  disposeNet(net)
  return (ms / sample) * train.rows
}

/**
 * Runs the bench.
 * @example
 * await main(['--datasets', 'credit_data', '--json'])
 */
export async function main(argv: string[]): Promise<void> {
  const datasets = flag(argv, 'datasets', 'lending_club,credit_data').split(',')
  const repeat = Number(flag(argv, 'repeat', '3'))
  const batchSize = Number(flag(argv, 'batch', '64'))
  const { backend } = await initTf()
  const figures: Record<string, number | string> = { backend, batchSize }
  for (const name of datasets) {
    const ds = await loadSharedDataset(name)
    const d = ds.train.features
    figures[`${name}.rows`] = ds.train.rows
    figures[`${name}.features`] = d
    const plain: FitConfig = { epochs: 1, batchSize, learningRate: 0.1 }
    const dp: FitConfig = { ...plain, dp: { kind: 'record-level', clipNorm: 1, noiseMultiplier: 1 } }
    const lr: ModelDescriptor = { kind: 'logreg', features: d }
    const mlp: ModelDescriptor = { kind: 'mlp', features: d, hidden: [32] }
    figures[`${name}.logreg.msPerEpoch`] = await epochMs(lr, ds.train, plain, repeat)
    figures[`${name}.logreg.dpSgd.msPerEpoch`] = await epochMs(lr, ds.train, dp, repeat)
    figures[`${name}.mlp32.msPerEpoch`] = await epochMs(mlp, ds.train, plain, repeat)
    figures[`${name}.mlp32.dpSgd.msPerEpoch`] = await epochMs(mlp, ds.train, dp, repeat)
    figures[`${name}.mlp32.naivePerExample.msPerEpoch`] = naivePerExampleMs(mlp, ds.train, 256, 1)
  }
  report('train-local', figures, argv)
}
