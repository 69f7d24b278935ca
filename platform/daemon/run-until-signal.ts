/**
 * The foreground life of a daemon (`cohort node start`, `cohort coordinator start`): serve its API,
 * publish the endpoint file, keep dialling members that are not connected, and on SIGINT/SIGTERM
 * close the API, remove the endpoint file, stop the daemon and exit.
 */
import { chmodSync, rmSync, writeFileSync } from 'node:fs'

/** How often unconnected members are dialled again. */
const RECONNECT_MS = 3_000

/** Signals caught from before start-up, so one that arrives while starting still stops cleanly. */
export interface ShutdownSignals {
  /** Runs `shutdown` on the next signal, or now if one already arrived (returning its promise). */
  arm(shutdown: (signal: string) => Promise<void>): Promise<void> | undefined
}

/**
 * Installs the SIGINT/SIGTERM handlers. Call it before starting the daemon.
 *
 * @example
 * const signals = trapShutdownSignals()
 * const running = await startNode(dir, { log })
 */
export function trapShutdownSignals(): ShutdownSignals {
  let stopRequested: string | undefined
  let shutdown: ((signal: string) => Promise<void>) | undefined
  const onSignal = (signal: string) => {
    if (shutdown !== undefined) void shutdown(signal)
    else stopRequested ??= signal
  }
  process.on('SIGINT', () => onSignal('SIGINT'))
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  return {
    arm(fn) {
      shutdown = fn
      return stopRequested === undefined ? undefined : fn(stopRequested)
    }
  }
}

/** A served API. */
export interface ServedApi {
  readonly url: string
  close(): Promise<void>
}

/** What {@link serveUntilSignal} runs. */
export interface ServeUntilSignalInit {
  log(line: string): void
  signals: ShutdownSignals
  /** Starts the API server. */
  serve(): Promise<ServedApi>
  /** Stops the started daemon (also when the API cannot be served). */
  stop(): Promise<void>
  /** Dials members that are not connected. */
  reconnect(): Promise<void>
  /** Path of the endpoint file. */
  endpointFile: string
  /** Content of the endpoint file, written mode 0600 once the API serves. */
  endpoint(api: ServedApi): Record<string, unknown>
  /** Names the API in the log line, e.g. `admin API`. */
  apiName: string
}

/**
 * Serves the API of a started daemon and runs until a shutdown signal, which exits the process.
 * If the API cannot be served, stops the daemon and throws.
 *
 * @example
 * await serveUntilSignal({ log, signals, serve, stop: () => running.stop(), reconnect, endpointFile, endpoint: (api) => ({ url: api.url }), apiName: 'admin API' })
 */
export async function serveUntilSignal(init: ServeUntilSignalInit): Promise<void> {
  const { log, endpointFile } = init
  let api: ServedApi
  try {
    api = await init.serve()
  } catch (err) {
    await init.stop()
    throw err
  }
  const timer = setInterval(() => void init.reconnect(), RECONNECT_MS)
  let stopping = false
  const early = init.signals.arm(async (signal) => {
    if (stopping) return
    stopping = true
    log(`${signal}: shutting down`)
    clearInterval(timer)
    await api.close()
    rmSync(endpointFile, { force: true })
    await init.stop()
    process.exit(0)
  })
  if (early !== undefined) return early

  // Removed first, so a stale file (kill -9) cannot keep looser permissions.
  rmSync(endpointFile, { force: true })
  writeFileSync(endpointFile, `${JSON.stringify(init.endpoint(api))}\n`, { mode: 0o600 })
  chmodSync(endpointFile, 0o600)
  log(`${init.apiName} on ${api.url}`)
  await init.reconnect()
}
