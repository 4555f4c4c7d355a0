// The serving key and certificate: from files (reloaded when they change) or generated at start.
import { mkdirSync, readFileSync, unwatchFile, watchFile, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { generateCa, issueServingCert } from './certs.js';
import type { KeyPair } from './certs.js';
import { claimCertDir } from './cert-dir.js';

export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

export interface TlsSource {
  current(): TlsMaterial;
  onChange(listener: (material: TlsMaterial) => void): void;
  close(): void;
  /** the CA bundle clients should trust, when portcullis generated it */
  readonly caPem?: string;
}

// Reads the key and certificate files and checks they parse as PEM.
function readPair(certFile: string, keyFile: string): TlsMaterial {
  const cert = readFileSync(certFile, 'utf8');
  const key = readFileSync(keyFile, 'utf8');
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${certFile}: expected a PEM certificate, got none`);
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(key)) throw new Error(`${keyFile}: expected a PEM private key, got none`);
  return { cert, key };
}

// TLS from files, polled for changes (cert-manager and Secret rotation rewrite them through symlinks).
export function fileTlsSource(certFile: string, keyFile: string, logger: Logger, intervalMs = 1000): TlsSource {
  let material = readPair(certFile, keyFile);
  const listeners: Array<(m: TlsMaterial) => void> = [];
  const reload = (): void => {
    try {
      const next = readPair(certFile, keyFile);
      if (next.cert === material.cert && next.key === material.key) return;
      material = next;
      for (const listener of listeners) listener(material);
      logger.info({ certFile }, 'TLS certificate reloaded');
    } catch (err) {
      logger.warn({ certFile, err }, 'TLS reload failed; keeping the current certificate');
    }
  };
  for (const file of [certFile, keyFile]) watchFile(file, { interval: intervalMs, persistent: false }, reload);
  return {
    current: () => material,
    onChange: (listener) => void listeners.push(listener),
    close: () => {
      unwatchFile(certFile);
      unwatchFile(keyFile);
    },
  };
}

export interface GeneratedTls {
  readonly source: TlsSource;
  readonly ca: KeyPair;
  readonly caFile: string;
}

// Generates a CA and a serving certificate for these SANs, writing ca.crt, tls.crt and tls.key into certDir, which
// it claims for this process (CertDirInUseError when another running server holds it).
export function generatedTlsSource(sans: readonly string[], certDir: string): GeneratedTls {
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const release = claimCertDir(certDir);
  const ca = generateCa();
  const serving = issueServingCert(ca, sans);
  const caFile = join(certDir, 'ca.crt');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(join(certDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(certDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  const material = { cert: serving.certPem, key: serving.keyPem };
  return {
    ca,
    caFile,
    source: { current: () => material, onChange: () => undefined, close: release, caPem: ca.certPem },
  };
}
