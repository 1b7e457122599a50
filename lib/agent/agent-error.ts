/** Errors of the ssh-agent protocol (draft-miller-ssh-agent): a refused request, a malformed or oversized reply, a lost agent. */
import { SshError } from '../errors.js';

/** The agent refused a request (SSH_AGENT_FAILURE), answered malformed data, or went away. */
export class AgentError extends SshError {}
