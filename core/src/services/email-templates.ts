import { and, asc, eq, ne } from 'drizzle-orm'
import { type Actor, actorRef, MANAGE, requireRole } from '../actor.ts'
import { recordAudit } from '../audit.ts'
import type { Clock } from '../clock.ts'
import type { Db, Executor, Tx } from '../db/client.ts'
import { emailTemplates, orgs, type TemplateKind } from '../db/schema/index.ts'
import {
  DEFAULT_TEMPLATES,
  renderTemplate,
  TEMPLATE_VARIABLES,
  type TemplateVariables,
  unknownTemplateVariables,
} from '../email.ts'
import { conflict, isUniqueViolation, notFound, unprocessable } from '../errors.ts'
import { formatDeadline } from './invitations.ts'

export interface EmailTemplateInput {
  kind: TemplateKind
  name: string
  subject: string
  body: string
  isDefault?: boolean
}

/** A stored template, or a draft of `kind` whose missing parts are what the org sends today. */
export type PreviewInput = ({ templateId: string } | { kind: TemplateKind; subject?: string; body?: string }) & {
  variables?: TemplateVariables
}

export interface ResolvedTemplate {
  subject: string
  body: string
  /** null when the shipped default applies. */
  templateId: string | null
}

const DAY_MS = 86_400_000

/** Refuses a subject or body that would reach a candidate with a placeholder left unfilled. */
function assertKnownVariables(template: { subject?: string | null; body?: string | null }) {
  const unknown = [...new Set([template.subject ?? '', template.body ?? ''].flatMap(unknownTemplateVariables))]
  if (unknown.length > 0) {
    const allowed = TEMPLATE_VARIABLES.map((name) => `{${name}}`).join(', ')
    throw unprocessable(
      'unknown_template_variable',
      `unknown template variables ${unknown.join(', ')}; the variables are ${allowed}`,
      { unknown, allowed: TEMPLATE_VARIABLES },
    )
  }
}

/** An invite the candidate could not begin from is refused: its body must hold the start link. */
function assertStartLink(kind: TemplateKind, body: string | null | undefined) {
  if (kind === 'invite' && body && !body.includes('{start_link}')) {
    throw unprocessable('missing_start_link', 'an invite must contain {start_link}, the link the candidate starts from')
  }
}

/** The checks of an org's invite template, for an assessment's own invite subject and body. */
export function assertInviteTemplate(template: { subject?: string | null; body?: string | null }) {
  assertKnownVariables(template)
  assertStartLink('invite', template.body)
}

/** The fields that were sent (PATCH semantics). */
const sent = <T extends object>(o: T) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>

/** Defaults are serialised by lockDefaults, so the only unique index a write can still trip is the name. */
async function uniqueName<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('duplicate_template_name', 'your organisation already has a template with this name')
    throw err
  }
}

/**
 * Locks the org, so two admins setting a default at once queue instead of both inserting
 * one and tripping the unique index. Every write that moves a default takes it before any
 * template row, so those writes cannot deadlock. (NO KEY UPDATE does not block inserts
 * that merely reference the org.)
 */
async function lockDefaults(tx: Tx, orgId: string) {
  await tx.select({ id: orgs.id }).from(orgs).where(eq(orgs.id, orgId)).for('no key update')
}

/** Unsets the org's default of `kind` other than `keep`; returns the id of the template that had it. */
async function unsetDefault(tx: Tx, orgId: string, kind: TemplateKind, now: Date, keep?: string) {
  const [previous] = await tx
    .update(emailTemplates)
    .set({ isDefault: false, updatedAt: now })
    .where(
      and(
        eq(emailTemplates.orgId, orgId),
        eq(emailTemplates.kind, kind),
        eq(emailTemplates.isDefault, true),
        keep ? ne(emailTemplates.id, keep) : undefined,
      ),
    )
    .returning({ id: emailTemplates.id })
  return previous?.id
}

/**
 * The template to send for `kind`: the one named (it must be the org's and of that kind),
 * else the org's default of that kind, else the shipped default. `exec` lets a sender
 * resolve inside its own transaction.
 */
async function resolve(exec: Executor, orgId: string, kind: TemplateKind, templateId?: string | null): Promise<ResolvedTemplate> {
  const [row] = await exec
    .select()
    .from(emailTemplates)
    .where(
      and(
        eq(emailTemplates.orgId, orgId),
        eq(emailTemplates.kind, kind),
        templateId ? eq(emailTemplates.id, templateId) : eq(emailTemplates.isDefault, true),
      ),
    )
  if (row) return { subject: row.subject, body: row.body, templateId: row.id }
  if (templateId) {
    throw unprocessable('email_template_not_found', `template_id does not name a ${kind} template of your organisation`)
  }
  return { ...DEFAULT_TEMPLATES[kind], templateId: null }
}

export function createEmailTemplateService({ db, clock }: { db: Db; clock: Clock }) {
  const scoped = (actor: Actor, id: string) => and(eq(emailTemplates.id, id), eq(emailTemplates.orgId, actor.orgId))

  async function get(actor: Actor, id: string) {
    const [row] = await db.select().from(emailTemplates).where(scoped(actor, id))
    if (!row) throw notFound('email_template')
    return row
  }

  return {
    get,
    resolve,

    list(actor: Actor, filter: { kind?: TemplateKind } = {}) {
      return db
        .select()
        .from(emailTemplates)
        .where(and(eq(emailTemplates.orgId, actor.orgId), filter.kind ? eq(emailTemplates.kind, filter.kind) : undefined))
        .orderBy(asc(emailTemplates.kind), asc(emailTemplates.key))
    },

    async create(actor: Actor, input: EmailTemplateInput) {
      requireRole(actor, MANAGE)
      assertKnownVariables(input)
      assertStartLink(input.kind, input.body)
      const now = clock.now()
      return uniqueName(() =>
        db.transaction(async (tx) => {
          let replaced: string | undefined
          if (input.isDefault) {
            await lockDefaults(tx, actor.orgId)
            replaced = await unsetDefault(tx, actor.orgId, input.kind, now)
          }
          const [row] = await tx
            .insert(emailTemplates)
            .values({
              orgId: actor.orgId,
              kind: input.kind,
              key: input.name,
              subject: input.subject,
              body: input.body,
              isDefault: input.isDefault ?? false,
              createdAt: now,
              updatedAt: now,
            })
            .returning()
          await recordAudit(tx, {
            orgId: actor.orgId,
            kind: 'email_template.created',
            actor: actorRef(actor),
            target: row!.id,
            meta: { kind: row!.kind, name: row!.key, is_default: row!.isDefault, replaced_default: replaced ?? null },
          })
          return row!
        }),
      )
    },

    /** A template may change kind; the default of one kind becomes the default of the other. */
    async update(actor: Actor, id: string, patch: Partial<EmailTemplateInput>) {
      requireRole(actor, MANAGE)
      assertKnownVariables(patch)
      const now = clock.now()
      const movesDefault = patch.isDefault === true || patch.kind !== undefined
      return uniqueName(() =>
        db.transaction(async (tx) => {
          if (movesDefault) await lockDefaults(tx, actor.orgId)
          const [current] = await tx.select().from(emailTemplates).where(scoped(actor, id)).for('update')
          if (!current) throw notFound('email_template')
          assertStartLink(patch.kind ?? current.kind, patch.body ?? current.body)
          const replaced =
            movesDefault && (patch.isDefault ?? current.isDefault)
              ? await unsetDefault(tx, actor.orgId, patch.kind ?? current.kind, now, id)
              : undefined
          const { name, ...rest } = patch
          const [row] = await tx
            .update(emailTemplates)
            .set({ ...sent({ ...rest, key: name }), updatedAt: now })
            .where(scoped(actor, id))
            .returning()
          await recordAudit(tx, {
            orgId: actor.orgId,
            kind: 'email_template.updated',
            actor: actorRef(actor),
            target: id,
            meta: { fields: Object.keys(sent(patch)), replaced_default: replaced ?? null },
          })
          return row!
        }),
      )
    },

    /** Deleting the default leaves its kind on the shipped default until another is chosen. */
    async remove(actor: Actor, id: string) {
      requireRole(actor, MANAGE)
      await db.transaction(async (tx) => {
        const [row] = await tx.delete(emailTemplates).where(scoped(actor, id)).returning()
        if (!row) throw notFound('email_template')
        await recordAudit(tx, {
          orgId: actor.orgId,
          kind: 'email_template.deleted',
          actor: actorRef(actor),
          target: id,
          meta: { kind: row.kind, name: row.key, was_default: row.isDefault },
        })
      })
    },

    /** Renders with example values (each overridable), so an editor sees what a candidate would get. */
    async preview(actor: Actor, input: PreviewInput) {
      let template: { subject: string; body: string }
      if ('templateId' in input) {
        template = await get(actor, input.templateId)
      } else {
        assertKnownVariables(input)
        const current = await resolve(db, actor.orgId, input.kind)
        template = { subject: input.subject ?? current.subject, body: input.body ?? current.body }
      }
      const now = clock.now().getTime()
      return renderTemplate(template, {
        candidate_name: 'Ada Lovelace',
        assessment_title: 'Backend exercise',
        start_link: 'https://takehome.example/start/thi_example',
        start_deadline: formatDeadline(new Date(now + 3 * DAY_MS)),
        complete_deadline: formatDeadline(new Date(now + 5 * DAY_MS)),
        ...input.variables,
      })
    },
  }
}

export type EmailTemplateService = ReturnType<typeof createEmailTemplateService>
