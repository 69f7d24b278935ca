import { Hono } from 'hono'
import { z } from 'zod'
import { NodePolicy } from '../../../configs/node-config.ts'
import { readPolicy, writePolicy } from '../../policy/policy-store.ts'
import { ADMIN_ACTOR } from '../context.ts'
import type { AdminContext } from '../context.ts'
import { jsonBody } from '../middleware/validate.ts'

const POLICY_FIELDS = Object.keys(NodePolicy.shape)

/**
 * `PUT` replaces the whole policy, so every field must be present and no other may be: a typo or a
 * forgotten field would otherwise reset a privacy limit to its default without anyone noticing.
 */
const PolicyDocument = z
  .record(z.string(), z.unknown())
  .superRefine((doc, ctx) => {
    for (const key of POLICY_FIELDS) {
      if (!Object.hasOwn(doc, key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'missing (PUT replaces the whole policy)' })
    }
    for (const key of Object.keys(doc)) {
      if (!POLICY_FIELDS.includes(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'not a policy field' })
    }
  })
  .pipe(NodePolicy)

/**
 * `GET /` the effective data-owner policy (stored copy, else the config file's);
 * `PUT /` replaces it, writing `policy-changed` (before and after) in the audit log.
 *
 * @example
 * app.route('/v1/policy', policyRoutes(ctx))
 */
export function policyRoutes(ctx: AdminContext): Hono {
  const { home } = ctx
  // Serialise writes so each `policy-changed` entry's `before` is the policy it really replaced.
  let writing: Promise<unknown> = Promise.resolve()
  return new Hono()
    .get('/', async (c) => c.json({ policy: await readPolicy(home.store, home.config.policy) }))
    .put('/', jsonBody(PolicyDocument), async (c) => {
      const next = c.req.valid('json')
      const run = writing.then(async () => {
        const current = await readPolicy(home.store, home.config.policy)
        return writePolicy(home.store, home.audit, current, next, ADMIN_ACTOR)
      })
      writing = run.catch(() => undefined)
      return c.json({ policy: await run })
    })
}
