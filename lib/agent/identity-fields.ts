/**
 * A private key as an agent receives it (draft-miller-ssh-agent §3.2, §4.2; PROTOCOL.certkeys for
 * certified keys; PROTOCOL.agent): key type, the key's fields (or the certificate, then only the
 * private values), and the constraints of SSH_AGENTC_ADD_ID_CONSTRAINED (lifetime, confirm).
 */
import { SshReader, SshWriter, concatBytes } from '../codec/wire.js';
import { KeyPair, type KeyType } from '../keys/key-pair.js';
import { Certificate, isCertificateAlgorithm } from '../keys/certificate.js';
import { curveParameters, rsaPrivateMaterial, type KeyMaterial } from '../keys/key-material.js';
import { readPrivateFields, writePrivateFields } from '../keys/formats/openssh.js';
import { fixedSize } from '../keys/formats/jwk.js';
import { bytesEqual } from '../keys/encoding.js';
import { AgentError } from './agent-error.js';

/** draft-miller-ssh-agent §3.2.7: constraint identifiers. */
export const KeyConstraint = { lifetime: 1, confirm: 2, extension: 255 } as const;

/** How an agent may use a key it is given (draft-miller-ssh-agent §3.2.7). */
export interface KeyConstraints {
  /** Seconds after which the agent forgets the key. */
  lifetime?: number;
  /** The agent asks for confirmation before each signature. */
  confirm?: boolean;
}

/** An identity as carried by ADD_IDENTITY: a key with its private half, maybe with a certificate. */
export interface AddedIdentity {
  key: KeyPair;
  certificate?: Certificate | undefined;
  comment: string;
}

const what = 'agent key';

/** draft-miller-ssh-agent §3.2; PROTOCOL.certkeys: the fields of ADD_IDENTITY after the type byte. */
export function writeIdentity(w: SshWriter, identity: AddedIdentity): void {
  const { key, certificate, comment } = identity;
  if (!certificate) {
    writePrivateFields(key, w);
  } else {
    const m = key.material;
    // The certificate carries the public half; only the private values follow it.
    w.string(certificate.certificateType).string(certificate.blob);
    if (m.kty === 'RSA') for (const value of [m.d, m.qi, m.p, m.q]) w.mpint(value!);
    else if (m.kty === 'OKP') w.string(m.x).string(concatBytes(m.d!, m.x));
    else w.mpint(m.d!);
  }
  w.string(comment);
}

/** Reads what `writeIdentity` writes. @throws AgentError or KeyError for malformed fields */
export function readIdentity(r: SshReader): AddedIdentity {
  const type = r.utf8();
  if (!isCertificateAlgorithm(type)) {
    const material = readPrivateFields(type as KeyType, r);
    return { key: new KeyPair({ material }), comment: r.utf8() };
  }
  const certificate = new Certificate(r.string().slice());
  if (certificate.certificateType !== type) throw new AgentError(`Agent key names ${type.slice(0, 60)} but holds a ${certificate.certificateType} certificate`);
  const material = certifiedPrivateMaterial(certificate.publicKey.material, r);
  const comment = r.utf8();
  return { key: new KeyPair({ material, comment }), certificate, comment };
}

function certifiedPrivateMaterial(pub: KeyMaterial, r: SshReader): KeyMaterial {
  if (pub.kty === 'RSA') {
    const [d, , p, q] = [r.mpint(), r.mpint(), r.mpint(), r.mpint()];
    return rsaPrivateMaterial({ n: pub.n, e: pub.e, d, p, q }, what);
  }
  if (pub.kty === 'OKP') {
    const publicKey = r.string();
    const secret = r.string();
    if (secret.length !== 64 || !bytesEqual(publicKey, pub.x) || !bytesEqual(secret.subarray(32), pub.x)) {
      throw new AgentError('Ed25519 agent key does not match its certificate');
    }
    return { ...pub, d: secret.slice(0, 32) };
  }
  return { ...pub, d: fixedSize(r.mpint(), curveParameters(pub.crv).size, `${pub.crv} private scalar`) };
}

/** draft-miller-ssh-agent §3.2.7: appends the constraints; true when there is any. */
export function writeConstraints(w: SshWriter, constraints: KeyConstraints): boolean {
  const { lifetime, confirm } = constraints;
  if (lifetime !== undefined) {
    if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 0xffffffff) throw new AgentError(`Key lifetime ${lifetime} is not a whole number of seconds in 1..4294967295`);
    w.byte(KeyConstraint.lifetime).uint32(lifetime);
  }
  if (confirm) w.byte(KeyConstraint.confirm);
  return lifetime !== undefined || confirm === true;
}

/**
 * Reads the constraints that end an ADD_ID_CONSTRAINED request.
 * @throws AgentError for an extension constraint (none is supported) or an unknown one
 */
export function readConstraints(r: SshReader): KeyConstraints {
  const constraints: KeyConstraints = {};
  while (r.remaining > 0) {
    const kind = r.byte();
    if (kind === KeyConstraint.lifetime) constraints.lifetime = r.uint32();
    else if (kind === KeyConstraint.confirm) constraints.confirm = true;
    else if (kind === KeyConstraint.extension) throw new AgentError(`Unsupported key constraint extension ${r.utf8().slice(0, 60)}`);
    else throw new AgentError(`Unknown key constraint ${kind}`);
  }
  return constraints;
}
