/**
 * The `ssh-streams/agent` entry point: the ssh-agent protocol (draft-miller-ssh-agent) as a client
 * (`AgentClient`, usable as `client.authenticate({ username, agent })`) and as an in-memory agent
 * (`AgentServer`). Agent forwarding itself is `channel.requestAgentForwarding(path)` on the client
 * and `serveExec` on the server. Public re-exports only; installs no backend (the entry points
 * `index.node.ts` and `index.browser.ts` do, then re-export this).
 */
export { AgentClient, type AddKeyOptions, type AgentClientOptions, type AgentKey } from './agent-client.js';
export { AgentServer, type AgentServerOptions } from './agent-server.js';
export { KeyConstraint, type KeyConstraints } from './identity-fields.js';
export { AgentError } from './agent-error.js';
export type { AgentSocket, AgentSocketBackend } from './socket-backend.js';
export { AgentMessage, SignFlags, maxAgentMessageLength } from './protocol.js';
export type { AgentIdentity, AuthenticationAgent } from '../auth/types.js';
