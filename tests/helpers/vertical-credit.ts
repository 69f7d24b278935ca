/**
 * TEST ONLY: credit_data split vertically (datasets/credit_data/partitions/vertical.json: lender holds
 * the label, payroll_provider and retailer hold other columns; vertical_overlap.json: each holds a
 * random 85% of the customers) as a vertical federation of memory nodes
 * (simulations/vertical/vertical-federation.ts).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { NodePolicy } from '../../configs/node-config.ts'
import { scenarioFrom } from '../../configs/scenario.ts'
import { DATASETS_DIR } from '../../simulations/baselines/load-dataset.ts'
import { loadSimTable } from '../../simulations/data/sim-table.ts'
import type { SimTable } from '../../simulations/data/sim-table.ts'
import { SIM_FEDERATION } from '../../simulations/harness/sim-federation.ts'
import { createVerticalFederation } from '../../simulations/vertical/vertical-federation.ts'
import type { VerticalFederation } from '../../simulations/vertical/vertical-federation.ts'
import { verticalSplit } from '../../simulations/vertical/vertical-parties.ts'
import type { VerticalSplit } from '../../simulations/vertical/vertical-parties.ts'

const DIR = join(DATASETS_DIR, 'credit_data')

/** A permissive policy of the simulated federation (no noise floor, ε cap 4, two parties minimum). */
export function verticalTestPolicy(over: Partial<NodePolicy> = {}): NodePolicy {
  return NodePolicy.parse({
    federations: [SIM_FEDERATION],
    epsilonCap: 4,
    delta: 1e-5,
    minNoiseMultiplier: 0,
    minParticipants: 2,
    ...over
  })
}

/** The credit_data table and its vertical split (with the 85% overlap). */
export function creditVertical(): { table: SimTable; split: VerticalSplit } {
  const groups = JSON.parse(readFileSync(join(DIR, 'partitions/vertical.json'), 'utf8')) as Record<
    string,
    string[]
  >
  const overlap = JSON.parse(readFileSync(join(DIR, 'partitions/vertical_overlap.json'), 'utf8')) as Record<
    string,
    string[]
  >
  const scenario = scenarioFrom(
    {
      name: 'credit-vertical',
      dataset: { csv: 'data.csv', spec: 'spec.json', name: 'credit' },
      partition: { kind: 'vertical', groups },
      model: { kind: 'logreg' }
    },
    DIR
  )
  const table = loadSimTable(scenario)
  return { table, split: verticalSplit(table, groups, overlap) }
}

/** The federation of {@link creditVertical}. */
export async function creditVerticalFederation(
  o: { seed?: string; transport?: 'loopback' | 'libp2p'; log?: (line: string) => void } = {}
): Promise<{ fed: VerticalFederation; table: SimTable; split: VerticalSplit }> {
  const { table, split } = creditVertical()
  const fed = await createVerticalFederation({
    seed: o.seed ?? 'vertical-test',
    dataset: 'credit',
    parties: split.parties,
    policy: () => verticalTestPolicy(),
    ...(o.transport === undefined ? {} : { transport: o.transport }),
    ...(o.log === undefined ? {} : { log: o.log })
  })
  return { fed, table, split }
}
