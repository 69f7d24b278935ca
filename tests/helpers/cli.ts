import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join, resolve } from 'node:path'

export const REPO = resolve(import.meta.dirname, '../..')
/** The pinned Node 24 (the system node may be older). */
export const NODE = join(REPO, 'node_modules/.bin/node')
export const CLI = join(REPO, 'cli/main.ts')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `cohort ARGS` in a child process and collects its output. */
export function runCli(
  args: string[],
  opts: { timeoutMs?: number; env?: Record<string, string> } = {}
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [CLI, ...args], {
      cwd: REPO,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code, stdout, stderr })
    })
  })
}

/** Starts `cohort ARGS` as a long-running child; resolves once `ready` matches its stdout or stderr. */
export function startCli(
  args: string[],
  ready: RegExp,
  timeoutMs = 30_000,
  env: Record<string, string> = {}
): Promise<{ child: ChildProcess; output: () => string }> {
  return startScript(CLI, args, ready, timeoutMs, env)
}

/**
 * Starts `node SCRIPT ARGS` as a long-running child; resolves once `ready` matches its stdout or
 * stderr, with the match (for a line such as `READY <addr>`).
 */
export function startScript(
  script: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 30_000,
  env: Record<string, string> = {}
): Promise<{ child: ChildProcess; output: () => string; match: RegExpExecArray }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [script, ...args], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`timed out waiting for ${ready}; output so far:\n${out}`))
    }, timeoutMs)
    const onData = (d: Buffer) => {
      out += d
      const match = ready.exec(out)
      if (match) {
        clearTimeout(timer)
        resolvePromise({ child, output: () => out, match })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (!ready.test(out))
        reject(new Error(`${script} ${args.join(' ')} exited with ${code} before ready:\n${out}`))
    })
  })
}

/** Waits for a child to exit. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) r(child.exitCode)
    else child.on('exit', (code) => r(code))
  })
}

/** Polls `fn` until it returns a value (a throw counts as "not yet"); fails after `timeoutMs`. */
export async function until<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 100
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}
