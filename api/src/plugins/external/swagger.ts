import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { jsonSchemaTransform } from 'fastify-type-provider-zod'

/** OpenAPI at /docs (UI) and /docs/json, generated from the zod schemas on every route. */
export default fp(
  async function openApi(app: FastifyInstance, opts: { publicUrl: string }) {
    await app.register(swagger, {
      openapi: {
        info: {
          title: 'Takehome API',
          version: '0.1.0',
          description:
            'Git-native take-home assessments. Admin routes take a session cookie or `Authorization: Bearer thk_…`. ' +
            'Errors are `{ "error": { "code", "message", "details" } }`.',
        },
        servers: [{ url: opts.publicUrl }],
        components: {
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (thk_…)' },
            session: { type: 'apiKey', in: 'cookie', name: 'takehome_session' },
          },
        },
      },
      transform: jsonSchemaTransform,
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'openapi' },
)
