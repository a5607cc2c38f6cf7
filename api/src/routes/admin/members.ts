import { ROLES, type Services } from '@takehome/core'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { actorOf } from '../../plugins/app/auth.ts'
import {
  memberInvitationSchema,
  memberSchema,
  newMemberInvitationSchema,
  presentMemberInvitation,
  presentNewMemberInvitation,
  presentUser,
} from '../../presenters.ts'
import { admin, emailField, errors, idParams } from '../common.ts'

const role = z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` })
const userParams = z.object({ user_id: z.uuid({ error: 'must be a UUID' }) })
const memberRef = z.object({ user_id: z.string(), role: z.string() })

const routes: FastifyPluginAsyncZod<{ services: Services }> = async (app, { services }) => {
  const tags = ['members']

  app.get(
    '/api/members',
    { schema: { tags, security: admin, response: { 200: z.object({ members: z.array(memberSchema) }), ...errors } } },
    async (request) => ({
      members: (await services.members.list(actorOf(request))).map((m) => ({
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
        summary: 'Invite someone by email; they become a member when they accept the emailed link (valid 7 days)',
        description:
          'The answer is the same whether or not the address already has an account. Inviting an address again ' +
          'replaces its pending invitation. Only owners invite owners, and only owners replace an invitation to become an owner.',
        body: z.object({ email: emailField, role }),
        response: { 201: newMemberInvitationSchema, ...errors },
      },
    },
    async (request, reply) => {
      const invitation = await services.members.invite(actorOf(request), request.body)
      return reply.status(201).send(presentNewMemberInvitation(invitation))
    },
  )

  app.get(
    '/api/members/invitations',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Pending member invitations',
        response: { 200: z.object({ invitations: z.array(memberInvitationSchema) }), ...errors },
      },
    },
    async (request) => ({
      invitations: (await services.members.listInvitations(actorOf(request))).map(presentMemberInvitation),
    }),
  )

  app.delete(
    '/api/members/invitations/:id',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Withdraw a pending member invitation; its link stops working',
        params: idParams,
        response: { 200: memberInvitationSchema, ...errors },
      },
    },
    async (request) => presentMemberInvitation(await services.members.revokeInvitation(actorOf(request), request.params.id)),
  )

  app.patch(
    '/api/members/:user_id',
    {
      schema: {
        tags,
        security: admin,
        summary: "Change a member's role (owners only)",
        params: userParams,
        body: z.object({ role }),
        response: { 200: memberRef, ...errors },
      },
    },
    async (request) => {
      const row = await services.members.changeRole(actorOf(request), request.params.user_id, request.body.role)
      return { user_id: row.userId, role: row.role }
    },
  )

  app.delete(
    '/api/members/:user_id',
    {
      schema: {
        tags,
        security: admin,
        summary: 'Remove a member (owners and admins; only owners remove owners); their sessions in this organisation end and the API keys they made for it are revoked',
        params: userParams,
        response: { 200: memberRef, ...errors },
      },
    },
    async (request) => {
      const row = await services.members.remove(actorOf(request), request.params.user_id)
      return { user_id: row.userId, role: row.role }
    },
  )
}

export default routes
