// CA and serving certificates made with node-forge, for self-managed TLS and `portcullis cert`.
import { isIP } from 'node:net';
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

const DAY_MS = 86_400_000;

function baseCert(publicKey: forge.pki.PublicKey, days: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // a random serial, kept positive by its leading 01 byte
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + days * DAY_MS);
  return cert;
}

// Makes a certificate a self-signed CA named commonName (subject, issuer, CA extensions) and signs it with its key.
export function signAsCa(cert: forge.pki.Certificate, privateKey: forge.pki.rsa.PrivateKey, commonName: string): void {
  const subject = [{ name: 'commonName', value: commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
}

// Generates a self-signed CA certificate and key.
export function generateCa(commonName = 'portcullis-ca', days = 3650): KeyPair {
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = baseCert(keys.publicKey, days);
  signAsCa(cert, keys.privateKey, commonName);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

// Issues a serving certificate for these DNS names and IP addresses, signed by the CA.
export function issueServingCert(ca: KeyPair, sans: readonly string[], days = 365): KeyPair {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
  const cert = baseCert(keys.publicKey, days);
  cert.setSubject([{ name: 'commonName', value: sans[0] ?? 'portcullis' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: sans.map((san) => (isIP(san) ? { type: 7, ip: san } : { type: 2, value: san })) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** Default SANs: what a local API server or kubectl port-forward reaches. */
export const DEFAULT_SANS: readonly string[] = ['localhost', '127.0.0.1'];

/** The SANs a Service named `name` in `namespace` is reached by. */
export function serviceSans(name: string, namespace: string): string[] {
  return [name, `${name}.${namespace}`, `${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}
