import type { Command } from 'commander'
import { register as audit } from './audit.ts'
import { register as federation } from './federation.ts'

/** Every command group, in the order `cohort --help` lists them. */
export const commandGroups: Array<(program: Command) => void> = [federation, audit]
