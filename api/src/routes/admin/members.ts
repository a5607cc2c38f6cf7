import { ROLES, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import { memberSchema, presentUser } from '../../presenters.ts'
import { admin, emailField, errors, text } from '../common.ts'

const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` })

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['members']

  app.get(
    '/api/members',
    { schema: { tags, security: admin, response: { 200: z.object({ members: z.array(memberSchema) }), ...errors } } },
    async (request) => ({
      members: (await services.accounts.listMembers(actorOf(request))).map((m) => ({
        user: presentUser(m.user),
        role: m.role,
        joined_at: m.joinedAt.toISOString(),
      })),
    }),
  )

  app.post(
    '/api/members',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Add a member; a new account gets an initial password, shown in this response only',
        body: z.object({ email: emailField, name: text(200).optional(), role }),
        response: { 201: memberSchema.omit({ joined_at: true }).extend({ initial_password: z.string().optional() }), ...errors },
      },
    },
    async (request, reply) => {
      const added = await services.accounts.addMember(actorOf(request), request.body)
      return reply
        .status(201)
        .send({ user: presentUser(added.user), role: added.role, initial_password: added.initialPassword })
    },
  )

  app.patch(
    '/api/members/:user_id',
    {
      schema: {
        tags,
        security: admin,
        summary: "Change a member's role (owners only)",
        params: z.object({ user_id: z.uuid({ error: 'must be a UUID' }) }),
        body: z.object({ role }),
        response: { 200: z.object({ user_id: z.string(), role: z.string() }), ...errors },
      },
    },
    async (request) => {
      const row = await services.accounts.changeMemberRole(actorOf(request), request.params.user_id, request.body.role)
      return { user_id: row.userId, role: row.role }
    },
  )
}

export default routes
