import { describe, expect, it } from 'vitest'
import { MAX_TRAIN_CONTROL_BYTES, MAX_VECTOR_BYTES } from '../../../protocols/ids.ts'
import type { JobSummary } from '../../../protocols/training/job-summary.ts'
import {
  bytesToF64,
  decodeTrainReply,
  decodeTrainRequest,
  encodeTrain,
  f64ToBytes
} from '../../../protocols/training/wire.ts'
import type { TrainRequest } from '../../../protocols/training/wire.ts'

const SUMMARY: JobSummary = {
  name: 'risk',
  model: { kind: 'logreg', rounds: 20 },
  dataset: 'credit_data',
  secureAggregation: 'secagg+',
  ringBits: 62,
  dp: { mode: 'record', epsilon: 1, delta: 1e-5, clipNorm: 1 },
  minParticipants: 3,
  statistics: { ranges: { Age: [18, 80] }, noiseMultiplier: 10 },
  evaluation: { bins: 1000 },
  offered: 3
}

const fitRequest = (over: Partial<Extract<TrainRequest, { kind: 'fit' }>> = {}): TrainRequest => ({
  v: 1,
  jobId: 'job-1',
  kind: 'fit',
  round: 3,
  job: SUMMARY,
  secaggId: 'job-1/fit/abc',
  model: { kind: 'logreg', features: 2 },
  global: f64ToBytes(new Float64Array([0.5, -1, 2])),
  config: { epochs: 1, batchSize: 64, learningRate: 0.1 },
  prep: { features: ['a', 'b'], mean: [0, 1], std: [1, 2], impute: { a: 0, b: 'x' } },
  quant: { k: 62, clip: 2 ** 27, scale: 2 ** 24 },
  ...over
})

describe('/cohort/train/1.0.0 codec', () => {
  it('round-trips every request kind through msgpack and the schema', () => {
    const requests: TrainRequest[] = [
      { v: 1, jobId: 'job-1', kind: 'offer', job: SUMMARY },
      {
        v: 1,
        jobId: 'job-1',
        kind: 'stats',
        job: SUMMARY,
        secaggId: null,
        quant: { k: 62, clip: 2 ** 40, scale: 2 ** 11 },
        columns: [
          { name: 'Age', kind: 'number' },
          { name: 'Home', kind: 'category', levels: ['a', 'b'], encoding: 'onehot' }
        ]
      },
      fitRequest(),
      {
        ...(fitRequest() as object),
        kind: 'eval',
        config: { bins: 1000 },
        trainSplit: false
      } as TrainRequest,
      { v: 1, jobId: 'job-1', kind: 'cancel', reason: 'user' }
    ]
    for (const r of requests) expect(decodeTrainRequest(encodeTrain(r))).toEqual(r)
  })

  it('refuses unknown fields, bad job ids, out-of-range values and foreign kinds', () => {
    const bad: unknown[] = [
      { ...fitRequest(), extra: 1 },
      fitRequest({ jobId: 'job/../x' }),
      fitRequest({ round: -1 }),
      fitRequest({ quant: { k: 62, clip: 1, scale: 3 } }),
      fitRequest({ prep: { features: ['a'], mean: [0, 1], std: [1], impute: {} } }),
      { ...fitRequest(), kind: 'train' },
      { ...fitRequest(), job: { ...SUMMARY, dp: { mode: 'record', delta: 1e-5, clipNorm: 1 } } }
    ]
    for (const b of bad)
      expect(
        () => decodeTrainRequest(encodeTrain(b as TrainRequest)),
        JSON.stringify(b).slice(0, 80)
      ).toThrow(expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' }))
    expect(() => decodeTrainRequest(new Uint8Array([0xc1]))).toThrow(
      expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' })
    )
  })

  it('caps control messages at 1 MiB and vector-carrying ones at the vector limit', () => {
    // A schema-valid offer of more than 1 MiB (thousands of statistics ranges) is refused after decoding.
    const ranges: Record<string, [number, number]> = {}
    for (let i = 0; i < 6000; i++) ranges[`${'c'.repeat(190)}${i}`] = [0, 1]
    const offer = encodeTrain({
      v: 1,
      jobId: 'job-1',
      kind: 'offer',
      job: { ...SUMMARY, statistics: { ranges, noiseMultiplier: 1 } }
    })
    expect(offer.length).toBeGreaterThan(MAX_TRAIN_CONTROL_BYTES)
    expect(() => decodeTrainRequest(offer)).toThrow(
      expect.objectContaining({ code: 'COHORT_MESSAGE_TOO_LARGE' })
    )
    // A fit of the same size carries a model and passes.
    const big = fitRequest({ global: new Uint8Array(2 * MAX_TRAIN_CONTROL_BYTES) })
    expect(decodeTrainRequest(encodeTrain(big)).kind).toBe('fit')
    // Beyond the vector limit nothing is decoded at all.
    expect(() => decodeTrainRequest(new Uint8Array(MAX_VECTOR_BYTES + 1))).toThrow(
      expect.objectContaining({ code: 'COHORT_MESSAGE_TOO_LARGE' })
    )
  })

  it('checks a reply’s kind and job', () => {
    const frame = encodeTrain({
      v: 1,
      jobId: 'job-1',
      kind: 'declined',
      code: 'COHORT_POLICY_EPSILON_CAP',
      reason: 'too much'
    })
    expect(decodeTrainReply(frame, ['accepted', 'declined'], 'job-1').kind).toBe('declined')
    expect(() => decodeTrainReply(frame, ['ready'], 'job-1')).toThrow(
      expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' })
    )
    expect(() => decodeTrainReply(frame, ['declined'], 'job-2')).toThrow(
      expect.objectContaining({ code: 'COHORT_MALFORMED_MESSAGE' })
    )
    const badCode = encodeTrain({ v: 1, jobId: 'job-1', kind: 'declined', code: 'nope', reason: '' } as never)
    expect(() => decodeTrainReply(badCode, ['declined'], 'job-1')).toThrow()
  })

  it('moves Float64 vectors as little-endian bytes and refuses non-finite values', () => {
    const v = new Float64Array([1.5, -0, 1e-300, -(2 ** 60)])
    expect(bytesToF64(f64ToBytes(v))).toEqual(v)
    expect(() => bytesToF64(f64ToBytes(new Float64Array([Number.NaN])))).toThrow()
    expect(() => bytesToF64(new Uint8Array(7))).toThrow()
    expect(() => bytesToF64(f64ToBytes(v), 3)).toThrow()
  })
})
