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

/** Starts `cohort ARGS` as a long-running child; resolves once `ready` matches its stderr. */
export function startCli(
  args: string[],
  ready: RegExp,
  timeoutMs = 30_000
): Promise<{ child: ChildProcess; output: () => string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(NODE, [CLI, ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`timed out waiting for ${ready}; output so far:\n${out}`))
    }, timeoutMs)
    const onData = (d: Buffer) => {
      out += d
      if (ready.test(out)) {
        clearTimeout(timer)
        resolvePromise({ child, output: () => out })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (!ready.test(out))
        reject(new Error(`cohort ${args.join(' ')} exited with ${code} before ready:\n${out}`))
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
