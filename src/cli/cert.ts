// portcullis cert: writes a CA and a serving certificate for a Service, for the chart and manual installs.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateCa, issueServingCert, serviceSans } from '../server/certs.js';
import { parseCommand } from './flags.js';

const USAGE = `usage: portcullis cert --out-dir DIR [--service NAME] [--namespace NS] [--san NAME]... [--days N] [--force]
  writes DIR/ca.crt, DIR/ca.key, DIR/tls.crt, DIR/tls.key; refuses to replace existing ones unless --force
  SANs: NAME, NAME.NS, NAME.NS.svc, NAME.NS.svc.cluster.local (service portcullis in namespace portcullis by default) plus every --san`;

const FLAGS = {
  'out-dir': { type: 'string' },
  service: { type: 'string', default: 'portcullis' },
  namespace: { type: 'string', default: 'portcullis' },
  san: { type: 'string', multiple: true },
  days: { type: 'string', default: '365' },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h' },
} as const;

const FILES = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'];

export async function runCert(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const outDir = values['out-dir'];
  const days = Number(values.days);
  if (!outDir || !Number.isInteger(days) || days < 1) {
    process.stderr.write(`portcullis: expected --out-dir and a positive --days\n${USAGE}\n`);
    return 2;
  }
  const existing = FILES.filter((f) => existsSync(join(outDir, f)));
  if (existing.length > 0 && !values.force) {
    process.stderr.write(`portcullis: ${outDir}: expected no certificate files, got ${existing.join(', ')}: pass --force to replace them (a new CA needs a new caBundle)\n`);
    return 2;
  }
  const sans = [...serviceSans(values.service, values.namespace), ...(values.san ?? [])];
  const ca = generateCa('portcullis-ca', Math.max(days * 10, 3650));
  const serving = issueServingCert(ca, sans, days);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'ca.crt'), ca.certPem);
  writeFileSync(join(outDir, 'ca.key'), ca.keyPem, { mode: 0o600 });
  writeFileSync(join(outDir, 'tls.crt'), serving.certPem);
  writeFileSync(join(outDir, 'tls.key'), serving.keyPem, { mode: 0o600 });
  process.stdout.write(`wrote ${outDir}/{ca.crt,ca.key,tls.crt,tls.key} for ${sans.join(', ')}\ncaBundle: ${Buffer.from(ca.certPem).toString('base64')}\n`);
  return 0;
}
