export { credentialBroker, type CredentialOptions } from './credential.ts'
export { gitGateway, type GatewayOptions } from './gateway.ts'
