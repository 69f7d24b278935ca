/**
 * Reloads a daemon's federation manifest when its file changes, so members can be added or removed
 * without a restart. A manifest that fails to load is logged and the previous one kept.
 */
import { watch } from 'node:fs'
import type { FederationManifest } from '../../configs/federation.ts'
import { readManifest } from '../federation/manifest.ts'

/**
 * Watches `path`; calls `onReload` with each manifest that loads. Returns the function that stops
 * watching (a no-op where the file cannot be watched).
 *
 * @example
 * const unwatch = watchManifest(home.federationPath, log, (m) => { manifest = m })
 */
export function watchManifest(
  path: string,
  log: (line: string) => void,
  onReload: (manifest: FederationManifest) => void
): () => void {
  try {
    const watcher = watch(path, () => {
      try {
        const manifest = readManifest(path)
        onReload(manifest)
        log(`federation manifest reloaded: ${manifest.members.length} members`)
      } catch (err) {
        log(`manifest reload failed, keeping the previous one: ${(err as Error).message}`)
      }
    })
    return () => watcher.close()
  } catch {
    return () => {}
  }
}
