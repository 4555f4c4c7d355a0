// A mock Sigstore for keyless tests: Fulcio CA with a CT log, and a Rekor log, from @sigstore/mock, with the
// trusted_root.json that trusts them. Produces cosign's keyless formats (legacy .sig annotations, v0.3 bundles).

import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initializeCA, initializeCTLog, initializeTLog } from '@sigstore/mock';
import { BUNDLE_V03, pae, signBytes, simpleSigningPayload, type LegacyLayer, type PushedImage } from './cosign-format.js';

const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const REKOR_URL = 'https://rekor.mock.portcullis.test';

export interface Signer {
  privateKey: KeyObject;
  certDer: Buffer;
  certPem: string;
}

export interface MockSigstore {
  trustedRoot: object;
  writeTrustedRoot(dir: string, name?: string): string;
  /** a Fulcio-style certificate for subject (URI SAN) and issuer; `clock` backdates it (expired by now) */
  issue(subject: string, issuer: string, opts?: { clock?: Date; withoutSct?: boolean }): Promise<Signer>;
  /** a legacy cosign keyless signature layer (certificate + Rekor bundle annotations) */
  legacyLayer(signer: Signer, image: PushedImage, opts?: { tlog?: boolean }): Promise<LegacyLayer>;
  /** a legacy key-signed layer with a Rekor bundle annotation (cosign sign --key with tlog upload) */
  keyLegacyLayer(privateKey: KeyObject, publicPem: string, image: PushedImage): Promise<LegacyLayer>;
  /** a v0.3 bundle with a DSSE envelope over the statement, the certificate, and a Rekor dsse entry */
  bundle(signer: Signer, statement: Buffer, opts?: { tlog?: boolean }): Promise<object>;
}

function pemOf(der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

const ecKeys = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

export async function mockSigstore(): Promise<MockSigstore> {
  const caKeys = ecKeys();
  const ctKeys = ecKeys();
  const tlogKeys = ecKeys();
  const ctlog = await initializeCTLog(ctKeys);
  const ca = await initializeCA(caKeys, ctlog);
  const tlog = await initializeTLog(REKOR_URL, tlogKeys);
  const start = '2020-01-01T00:00:00.000Z';
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [{ baseUrl: REKOR_URL, hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: spki(tlogKeys.publicKey).toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } }, logId: { keyId: createHash('sha256').update(spki(tlogKeys.publicKey)).digest('base64') } }],
    certificateAuthorities: [{ subject: { organization: 'sigstore.mock', commonName: 'sigstore' }, uri: 'https://fulcio.mock.portcullis.test', certChain: { certificates: [{ rawBytes: Buffer.from(ca.rootCertificate.buffer, ca.rootCertificate.byteOffset, ca.rootCertificate.byteLength).toString('base64') }] }, validFor: { start } }],
    ctlogs: [{ baseUrl: 'https://ctfe.mock.portcullis.test', hashAlgorithm: 'SHA2_256', publicKey: { rawBytes: ctlog.publicKey.toString('base64'), keyDetails: 'PKIX_ECDSA_P256_SHA_256', validFor: { start } }, logId: { keyId: Buffer.from(ctlog.logID.buffer, ctlog.logID.byteOffset, ctlog.logID.byteLength).toString('base64') } }],
    timestampAuthorities: [],
  };
  const backdated = new Map<string, Awaited<ReturnType<typeof initializeCA>>>();

  async function issue(subject: string, issuer: string, opts: { clock?: Date; withoutSct?: boolean } = {}): Promise<Signer> {
    let issuerCa = ca;
    if (opts.clock || opts.withoutSct) {
      const key = `${opts.clock?.toISOString() ?? ''}|${opts.withoutSct === true}`;
      issuerCa = backdated.get(key) ?? (await initializeCA(caKeys, opts.withoutSct ? undefined : ctlog, opts.clock));
      backdated.set(key, issuerCa);
    }
    const kp = ecKeys();
    const der = Buffer.from((await issuerCa.issueCertificate({ publicKey: spki(kp.publicKey), subjectAltName: subject, extensions: [{ oid: OID_ISSUER_V2, value: issuer }] })).buffer);
    return { privateKey: kp.privateKey, certDer: der, certPem: pemOf(der) };
  }

  async function logEntry(proposed: object) {
    const res = await tlog.log(proposed);
    return Object.values(res)[0] as { body: string; integratedTime: number; logID: string; logIndex: number; verification: { signedEntryTimestamp: string; inclusionProof: { logIndex: number; treeSize: number; rootHash: string; hashes: string[]; checkpoint: string } } };
  }

  return {
    trustedRoot,
    writeTrustedRoot(dir, name = 'trusted_root.json') {
      const path = join(dir, name);
      writeFileSync(path, JSON.stringify(trustedRoot, null, 2));
      return path;
    },
    issue,
    async legacyLayer(signer, image, opts = {}) {
      const payload = simpleSigningPayload(image.name, image.digest);
      const signature = signBytes(signer.privateKey, payload);
      const annotations: Record<string, string> = { 'dev.sigstore.cosign/certificate': signer.certPem, 'dev.sigstore.cosign/chain': '' };
      if (opts.tlog !== false) {
        const e = await logEntry({
          apiVersion: '0.0.1',
          kind: 'hashedrekord',
          spec: { data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } }, signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(signer.certPem).toString('base64') } } },
        });
        annotations['dev.sigstore.cosign/bundle'] = JSON.stringify({ SignedEntryTimestamp: e.verification.signedEntryTimestamp, Payload: { body: e.body, integratedTime: e.integratedTime, logIndex: e.logIndex, logID: e.logID } });
      }
      return { payload, signature, annotations };
    },
    async keyLegacyLayer(privateKey, publicPem, image) {
      const payload = simpleSigningPayload(image.name, image.digest);
      const signature = signBytes(privateKey, payload);
      const e = await logEntry({
        apiVersion: '0.0.1',
        kind: 'hashedrekord',
        spec: { data: { hash: { algorithm: 'sha256', value: createHash('sha256').update(payload).digest('hex') } }, signature: { content: signature.toString('base64'), publicKey: { content: Buffer.from(publicPem).toString('base64') } } },
      });
      const bundle = JSON.stringify({ SignedEntryTimestamp: e.verification.signedEntryTimestamp, Payload: { body: e.body, integratedTime: e.integratedTime, logIndex: e.logIndex, logID: e.logID } });
      return { payload, signature, annotations: { 'dev.sigstore.cosign/bundle': bundle } };
    },
    async bundle(signer, statement, opts = {}) {
      const payloadType = 'application/vnd.in-toto+json';
      const sig = signBytes(signer.privateKey, pae(payloadType, statement));
      const tlogEntries: object[] = [];
      if (opts.tlog !== false) {
        const e = await logEntry({
          apiVersion: '0.0.1',
          kind: 'dsse',
          spec: {
            signatures: [{ signature: sig.toString('base64'), verifier: Buffer.from(signer.certPem).toString('base64') }],
            payloadHash: { algorithm: 'sha256', value: createHash('sha256').update(statement).digest('hex') },
            envelopeHash: { algorithm: 'sha256', value: createHash('sha256').update(JSON.stringify({ payloadType, payload: statement.toString('base64') })).digest('hex') },
          },
        });
        tlogEntries.push({
          logIndex: String(e.logIndex),
          logId: { keyId: Buffer.from(e.logID, 'hex').toString('base64') },
          kindVersion: { kind: 'dsse', version: '0.0.1' },
          integratedTime: String(e.integratedTime),
          inclusionPromise: { signedEntryTimestamp: e.verification.signedEntryTimestamp },
          inclusionProof: {
            logIndex: String(e.verification.inclusionProof.logIndex),
            rootHash: Buffer.from(e.verification.inclusionProof.rootHash, 'hex').toString('base64'),
            treeSize: String(e.verification.inclusionProof.treeSize),
            hashes: e.verification.inclusionProof.hashes,
            checkpoint: { envelope: e.verification.inclusionProof.checkpoint },
          },
          canonicalizedBody: e.body,
        });
      }
      return {
        mediaType: BUNDLE_V03,
        verificationMaterial: { certificate: { rawBytes: signer.certDer.toString('base64') }, tlogEntries, timestampVerificationData: { rfc3161Timestamps: [] } },
        dsseEnvelope: { payload: statement.toString('base64'), payloadType, signatures: [{ sig: sig.toString('base64'), keyid: '' }] },
      };
    },
  };
}
