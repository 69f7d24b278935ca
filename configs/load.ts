import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import type { z } from 'zod'
import { ConfigError } from './errors.ts'

/** Formats the first few zod issues as `path: message` fragments for one clear sentence. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ')
}

/** Validates `value` against `schema`, throwing ConfigError naming `what` and the bad fields. */
export function validate<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value)
  if (!r.success) throw new ConfigError(`${what} is invalid: ${describeIssues(r.error)}`)
  return r.data
}

/** Reads a JSON or YAML file (by extension) and validates it. */
export function loadFile<T>(schema: z.ZodType<T>, path: string, what: string): T {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ConfigError(`cannot read ${what} at ${path} (${code ?? 'error'})`)
  }
  let value: unknown
  try {
    value = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text)
  } catch (err) {
    throw new ConfigError(
      `${what} at ${path} is not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`
    )
  }
  return validate(schema, value, `${what} at ${path}`)
}
