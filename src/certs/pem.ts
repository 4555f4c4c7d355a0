// PEM bundles and the certificate facts rotation decides on (expiry, issuer, SANs).
import forge from 'node-forge';

export interface CertFacts {
  readonly notAfter: number;
  readonly subject: string;
  readonly issuer: string;
  readonly sans: string[];
  /** SHA-256 of the DER encoding, hex */
  readonly fingerprint: string;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

// Splits a PEM bundle into its certificates (each ends with a newline).
export function splitPem(bundle: string): string[] {
  return (bundle.match(PEM_CERT) ?? []).map((pem) => `${pem}\n`);
}

// Joins certificates into one bundle, dropping duplicates and keeping the order.
export function joinPem(certs: readonly string[]): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const cert of certs.flatMap(splitPem)) {
    if (seen.has(cert)) continue;
    seen.add(cert);
    out.push(cert);
  }
  return out.join('');
}

function dn(attrs: forge.pki.CertificateField[]): string {
  return attrs.map((a) => `${a.shortName ?? a.name}=${String(a.value)}`).join(',');
}

// Reads the facts of one PEM certificate.
export function certFacts(pem: string): CertFacts {
  const cert = forge.pki.certificateFromPem(pem);
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  const md = forge.md.sha256.create();
  md.update(der);
  const ext = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value?: string; ip?: string }> } | null;
  const sans = (ext?.altNames ?? []).map((n) => (n.type === 7 ? (n.ip ?? '') : (n.value ?? '')));
  return {
    notAfter: cert.validity.notAfter.getTime(),
    subject: dn(cert.subject.attributes),
    issuer: dn(cert.issuer.attributes),
    sans,
    fingerprint: md.digest().toHex(),
  };
}

// True when `certPem` was signed by the CA in `caPem` (signature checked, not only names).
export function signedBy(certPem: string, caPem: string): boolean {
  try {
    const ca = forge.pki.certificateFromPem(caPem);
    return ca.verify(forge.pki.certificateFromPem(certPem));
  } catch {
    return false;
  }
}
