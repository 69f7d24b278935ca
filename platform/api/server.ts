import type { Server } from 'node:http'
import { isIP } from 'node:net'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import type { Hono } from 'hono'
import { ApiListenError, RemoteBindRefusedError } from './errors.ts'

/** Where to listen. */
export interface ServeInit {
  /**
   * Interface to bind. Anything but a loopback address is refused unless `allowRemote` is set.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * TCP port; 0 picks a free one (the returned `port` and `url` say which).
   * @default 0
   */
  port?: number
  /**
   * Allow a non-loopback `host`. The API controls the process with one bearer token over plain HTTP,
   * so only set this behind TLS or on a trusted network.
   * @default false
   */
  allowRemote?: boolean
}

/** A listening API. */
export interface ApiServer {
  /** Base URL, e.g. `http://127.0.0.1:43121`. */
  readonly url: string
  readonly host: string
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number
  /** Stops listening and closes open connections. */
  close(): Promise<void>
}

/**
 * True for addresses that only this machine can reach: `localhost`, 127.0.0.0/8, `::1` and
 * IPv4-mapped 127.x.
 *
 * @example
 * isLoopbackHost('127.0.0.1') // true
 * isLoopbackHost('0.0.0.0') // false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  if (h === 'localhost') return true
  if (isIP(h) === 4) return h.startsWith('127.')
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h)
  return false
}

/**
 * Serves a hono app (the node's admin API, the coordinator's API) with `@hono/node-server`. Binds
 * 127.0.0.1 by default and refuses a non-loopback host (`COHORT_API_REMOTE_REFUSED`) unless
 * `allowRemote` is set; a failure to listen is `COHORT_API_LISTEN`.
 *
 * @example
 * const server = await serveApi(createAdminApp({ home }), { port: 0 })
 * console.log(server.url)
 * await server.close()
 */
export async function serveApi(app: Hono, init: ServeInit = {}): Promise<ApiServer> {
  const host = init.host ?? '127.0.0.1'
  const port = init.port ?? 0
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new ApiListenError(`API port must be an integer from 0 to 65535, got ${port}`)
  }
  if (!isLoopbackHost(host) && init.allowRemote !== true) throw new RemoteBindRefusedError(host)

  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }) as Server
    const onError = (err: NodeJS.ErrnoException) => {
      s.close()
      reject(
        new ApiListenError(`cannot serve the API on ${host}:${port} (${err.code ?? err.message})`, {
          cause: err
        })
      )
    }
    s.once('error', onError)
    s.once('listening', () => {
      s.off('error', onError)
      resolve(s)
    })
  })
  const bound = (server.address() as AddressInfo).port
  const urlHost = isIP(host) === 6 ? `[${host}]` : host
  let closing: Promise<void> | undefined
  return {
    url: `http://${urlHost}:${bound}`,
    host,
    port: bound,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err === undefined ? resolve() : reject(err)))
        server.closeAllConnections()
      })
      return closing
    }
  }
}
