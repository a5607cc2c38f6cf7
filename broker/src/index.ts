export { credentialBroker, type CredentialOptions } from './credential.ts'
export { createFastCredential, type FastCredentialOptions, serverAnsweringFirst } from './fast-credential.ts'
export { gitGateway, type GatewayOptions } from './gateway.ts'
