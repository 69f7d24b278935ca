import type { Command } from 'commander'
import { register as audit } from './audit.ts'
import { register as coordinator } from './coordinator.ts'
import { register as data } from './data.ts'
import { register as demo } from './demo.ts'
import { register as federation } from './federation.ts'
import { register as job } from './job.ts'
import { register as model } from './model.ts'
import { register as node } from './node.ts'
import { register as privacy } from './privacy.ts'
import { register as psi } from './psi.ts'
import { register as score } from './score.ts'
import { register as secagg } from './secagg.ts'
import { register as sim } from './sim.ts'
import { register as vertical } from './vertical.ts'

/** Every command group, in the order `cohort --help` lists them. */
export const commandGroups: Array<(program: Command) => void> = [
  demo,
  node,
  data,
  federation,
  coordinator,
  job,
  model,
  score,
  audit,
  privacy,
  secagg,
  psi,
  vertical,
  sim
]
