import { parse as parseYaml } from 'yaml'
import { describeIssues } from '../../configs/load.ts'
import { JobConfig } from '../../configs/job.ts'
import { RequestInvalidError, UnsupportedMediaTypeError } from '../../platform/api/errors.ts'

const JSON_TYPE = /^application\/([\w.-]+\+)?json$/i
const YAML_TYPE = /^(application|text)\/(x-)?yaml$/i

/** Media types `POST /v1/jobs` takes. */
export const JOB_FILE_MEDIA_TYPES = ['application/json', 'application/yaml', 'text/yaml'] as const

/**
 * The media type for a job file name: YAML for `.yaml`/`.yml`, JSON otherwise.
 *
 * @example
 * jobFileMediaType('logreg.yaml') // 'application/yaml'
 */
export function jobFileMediaType(fileName: string): string {
  return /\.ya?ml$/i.test(fileName) ? 'application/yaml' : 'application/json'
}

/**
 * Parses and validates a job file sent as JSON or YAML. Refuses another media type (415), text
 * that does not parse (400) and a file that does not match `JobConfig` (400, with every zod issue
 * in `details.issues` and the first three in the message).
 *
 * @example
 * const config = parseJobFile('name: x\nmodel: { kind: kmeans, k: 4 }\ndata: { dataset: credit }', 'application/yaml')
 */
export function parseJobFile(text: string, mediaType: string): JobConfig {
  const media = mediaType.split(';')[0]!.trim()
  let value: unknown
  if (JSON_TYPE.test(media)) {
    try {
      value = JSON.parse(text)
    } catch (err) {
      throw new RequestInvalidError(
        `the job file is not valid JSON: ${(err as Error).message.split('\n')[0]}`
      )
    }
  } else if (YAML_TYPE.test(media)) {
    try {
      value = parseYaml(text)
    } catch (err) {
      throw new RequestInvalidError(
        `the job file is not valid YAML: ${(err as Error).message.split('\n')[0]}`
      )
    }
  } else {
    throw new UnsupportedMediaTypeError(
      `a job file is JSON or YAML (Content-Type ${JOB_FILE_MEDIA_TYPES.join(', ')}), not ${media === '' ? 'no Content-Type' : media}`
    )
  }
  const r = JobConfig.safeParse(value)
  if (!r.success) {
    const issues = r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))
    throw new RequestInvalidError(`the job file is invalid: ${describeIssues(r.error)}`, { issues })
  }
  return r.data
}
