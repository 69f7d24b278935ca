import { CohortError } from '../../crypto/cohort-error.ts'

/** A minimal client of a node's admin API (bearer token, JSON errors with stable codes). */
export interface AdminClient {
  get<T>(path: string): Promise<T>
  post<T>(path: string, body?: RequestInit['body'], contentType?: string): Promise<T>
  put<T>(path: string, json: unknown): Promise<T>
}

export function adminClient(baseUrl: string, token: string): AdminClient {
  async function call<T>(
    method: string,
    path: string,
    body?: RequestInit['body'],
    contentType?: string
  ): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (contentType !== undefined) headers['content-type'] = contentType
    const init: RequestInit & { duplex?: 'half' } = {
      method,
      headers,
      body,
      signal: AbortSignal.timeout(120_000)
    }
    if (body instanceof ReadableStream) init.duplex = 'half'
    const res = await fetch(new URL(path, baseUrl), init)
    const text = await res.text()
    const json = text.length > 0 ? (JSON.parse(text) as unknown) : undefined
    if (!res.ok) {
      const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error
      throw new CohortError(
        `${method} ${path}: ${err?.message ?? res.statusText}`,
        err?.code ?? 'COHORT_API_ERROR'
      )
    }
    return json as T
  }
  return {
    get: (path) => call('GET', path),
    post: (path, body, contentType) => call('POST', path, body, contentType),
    put: (path, json) => call('PUT', path, JSON.stringify(json), 'application/json')
  }
}
