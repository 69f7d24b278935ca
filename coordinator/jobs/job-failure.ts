import { isCohortError } from '../../crypto/cohort-error.ts'
import { JobCancelledError } from '../errors.ts'
import type { JobRuntime } from './runtime.ts'
import type { JobRecord } from './types.ts'

/**
 * How a job runner ends on an error. An aborted run rethrows the abort reason (a cancel first tells
 * the nodes to forget the job; a stop leaves it `running` to resume); any other error is written as
 * `failed` with a stable code, after telling the nodes why.
 *
 * @throws the signal's reason when the run was aborted
 * @example
 * } catch (err) { await settleJobError({ rt, jobId, err, tell, save }); return job }
 */
export async function settleJobError(o: {
  rt: JobRuntime
  jobId: string
  err: unknown
  tell: (reason: string) => Promise<void>
  save: (patch: Partial<JobRecord>) => Promise<unknown>
}): Promise<void> {
  const { rt, err } = o
  if (rt.signal.aborted) {
    if (rt.signal.reason instanceof JobCancelledError) await o.tell('the job was cancelled')
    throw rt.signal.reason ?? err
  }
  const error = isCohortError(err)
    ? { code: err.code, message: err.message }
    : { code: 'COHORT_INTERNAL', message: `the job runner failed: ${(err as Error)?.message ?? String(err)}` }
  rt.log(`job ${o.jobId} failed: ${error.message} [${error.code}]`)
  await o.tell(`the job failed: ${error.code}`)
  await o.save({ status: 'failed', error })
}
