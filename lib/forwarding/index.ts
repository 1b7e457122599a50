/**
 * ssh-streams/forwarding: port forwarding (RFC 4254 §7). The entry point exists so the package
 * layout is stable; the forwarding service itself is not implemented yet.
 */
export {};
