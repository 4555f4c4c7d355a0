// portcullis serve: the admission webhook over HTTPS.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { buildApp } from '../server/app.js';
import { fileTlsSource, generatedTlsSource } from '../server/tls.js';
import type { TlsSource } from '../server/tls.js';
import { DEFAULT_SANS } from '../server/certs.js';
import { ConfigError } from '../config/load.js';
import { createRuntime } from './runtime.js';
import { parseFlags, usageFailure } from './flags.js';

const USAGE = `usage: portcullis serve [flags]
  --config FILE         PortcullisConfig YAML (default: the built-in config); reloaded on change
  --host ADDR           listen address (default 0.0.0.0)
  --port N              HTTPS port for /validate, /validate/audit, /healthz, /readyz, /metrics (default 8443)
  --tls-cert FILE       serving certificate (PEM); reloaded on change
  --tls-key FILE        serving key (PEM)
  --tls-san NAME        SAN for the generated certificate, repeatable (default localhost, 127.0.0.1)
  --cert-dir DIR        where a generated CA and certificate are written (default $TMPDIR/portcullis-certs)
  --shutdown-delay SEC  after SIGTERM, keep serving this long with /readyz 503 (default 0)
  --shutdown-grace SEC  then wait at most this long for in-flight reviews (default 20)
  --log-level LEVEL     trace|debug|info|warn|error (default info)`;

const FLAGS = {
  config: { type: 'string' },
  host: { type: 'string', default: '0.0.0.0' },
  port: { type: 'string', default: '8443' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-san': { type: 'string', multiple: true },
  'cert-dir': { type: 'string' },
  'shutdown-delay': { type: 'string', default: '0' },
  'shutdown-grace': { type: 'string', default: '20' },
  'log-level': { type: 'string', default: 'info' },
  help: { type: 'boolean', short: 'h' },
} as const;

function tlsFrom(values: { 'tls-cert'?: string; 'tls-key'?: string; 'tls-san'?: string[]; 'cert-dir'?: string }, logger: Logger): TlsSource {
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  if (certFile && keyFile) return fileTlsSource(certFile, keyFile, logger);
  if (certFile || keyFile) throw new Error('--tls-cert and --tls-key go together: expected both, got one');
  const sans = values['tls-san']?.length ? values['tls-san'] : [...DEFAULT_SANS];
  const generated = generatedTlsSource(sans, values['cert-dir'] ?? join(tmpdir(), 'portcullis-certs'));
  logger.info(
    { caFile: generated.caFile, sans, caBundle: Buffer.from(generated.ca.certPem).toString('base64') },
    'generated a CA and serving certificate; put caBundle in the ValidatingWebhookConfiguration',
  );
  return generated.source;
}

function seconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${flag}: expected a number of seconds, got "${value}"`);
  return n * 1000;
}

export async function runServe(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseFlags(argv, FLAGS));
  } catch (err) {
    return usageFailure(err, USAGE);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = pino({ level: values['log-level'], base: { name: 'portcullis' }, redact: ['req.headers.authorization'] });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`portcullis: --port: expected 0-65535, got "${values.port}"\n`);
    return 2;
  }
  const metrics = new Registry();
  let runtime;
  try {
    runtime = await createRuntime({ configPath: values.config, logger, metrics, watch: true });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`portcullis: config ${values.config ?? '(built-in)'}: ${p.path}: ${p.reason}\n`);
    return 2;
  }
  const delay = seconds(values['shutdown-delay'], 'shutdown-delay');
  const grace = seconds(values['shutdown-grace'], 'shutdown-grace');
  const tls = tlsFrom(values, logger);
  const { app, readiness } = await buildApp({ engine: runtime.engine, tls, logger, metrics });
  app.addHook('onClose', async () => runtime.close());
  const address = await app.listen({ host: values.host, port });
  logger.info({ address, config: values.config ?? 'built-in' }, 'portcullis is serving');
  const stop = (signal: string): void => {
    if (!readiness.serving) return;
    readiness.serving = false;
    logger.info({ signal, delayMs: delay, graceMs: grace }, 'shutting down: /readyz now answers 503');
    const force = setTimeout(() => {
      logger.warn({ graceMs: grace }, 'grace period over; closing remaining connections');
      process.exit(0);
    }, delay + grace);
    force.unref();
    setTimeout(() => {
      app.close().then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'error while stopping');
          process.exit(1);
        },
      );
    }, delay).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1;
}
