// Test PKI made with node-forge: a CA, and certificates it signs for 127.0.0.1 / localhost.

import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';
import { signAsCa } from '../../src/server/certs.js';

export interface TestCa {
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

export interface TestCert {
  certPem: string;
  keyPem: string;
  /** DER of the certificate, base64 (for a JWT x5c header) */
  derBase64: string;
}

// RSA keys from node:crypto (forge's pure-JS generation is slow), converted for forge.
function rsaKeys(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const priv = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function serial(): string {
  return `01${forge.util.bytesToHex(forge.random.getBytesSync(15))}`;
}

function validity(cert: forge.pki.Certificate): void {
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
}

// A self-signed CA (2048-bit RSA).
export function makeCa(commonName = 'portcullis test CA'): TestCa {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert);
  signAsCa(cert, keys.privateKey, commonName);
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey), cert, key: keys.privateKey };
}

// A leaf certificate signed by the CA: a TLS server cert for 127.0.0.1/localhost, or a signing cert.
export function issueCert(ca: TestCa, opts: { commonName: string; server?: boolean }): TestCert {
  const keys = rsaKeys();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  validity(cert);
  cert.setSubject([{ name: 'commonName', value: opts.commonName }]);
  cert.setIssuer(ca.cert.subject.attributes);
  const ext: object[] = [
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
  ];
  if (opts.server) {
    ext.push({ name: 'extKeyUsage', serverAuth: true });
    ext.push({ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] });
  }
  cert.setExtensions(ext);
  cert.sign(ca.key, forge.md.sha256.create());
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes();
  return { certPem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey), derBase64: forge.util.encode64(der) };
}
