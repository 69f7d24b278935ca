import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Hono } from 'hono'
import { createAdminApp } from '../../../node/api/app.ts'
import { initNodeHome, openNodeHome } from '../../../node/home.ts'
import type { NodeHome } from '../../../node/home.ts'
import type { CohortNode } from '../../../node/node.ts'

/** A real on-disk node home with its admin app, the token and a capture of the app's log. */
export interface ApiFixture {
  root: string
  home: NodeHome
  app: Hono
  token: string
  /** `{ Authorization: 'Bearer <token>' }` */
  auth: Record<string, string>
  logs: string[]
  close(): Promise<void>
}

/** Initialises a node home in a temp dir (optionally with a smaller body limit), opens it and builds the app. */
export async function apiFixture(
  opts: { maxBodyBytes?: number; node?: (home: NodeHome) => CohortNode } = {}
): Promise<ApiFixture> {
  const root = mkdtempSync(join(tmpdir(), 'cohort-api-'))
  const init = await initNodeHome(join(root, 'node'), { name: 'bank-a' })
  if (opts.maxBodyBytes !== undefined) {
    const config = JSON.parse(readFileSync(init.configPath, 'utf8'))
    config.api.maxBodyBytes = opts.maxBodyBytes
    writeFileSync(init.configPath, JSON.stringify(config))
  }
  const home = await openNodeHome(init.dir)
  const logs: string[] = []
  const app = createAdminApp({ home, node: opts.node?.(home), log: (l) => logs.push(l) })
  return {
    root,
    home,
    app,
    token: init.token,
    auth: { Authorization: `Bearer ${init.token}` },
    logs,
    async close() {
      await home.close().catch(() => undefined)
      rmSync(root, { recursive: true, force: true })
    }
  }
}

/** The `{ error }` body of a failed response. */
export async function errorOf(res: Response): Promise<{ code: string; message: string; details?: unknown }> {
  const body = (await res.json()) as { error: { code: string; message: string; details?: unknown } }
  return body.error
}
