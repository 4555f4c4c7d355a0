// portcullis serve: the admission webhook over HTTPS.
import { POLICIES } from '../../policies/index.js';
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
import { AUDIT_SERVE_FLAGS, AUDIT_SERVE_USAGE, startBackgroundAuditFromFlags } from '../audit/background.js';
import { OWNER_EVENT_SERVE_FLAGS, OWNER_EVENT_SERVE_USAGE, ownerEventsFromFlags } from '../events/owner-events.js';
import { EXCEPTION_SERVE_FLAGS, EXCEPTION_SERVE_USAGE, exceptionsFromFlags } from '../exceptions/serve.js';
import { createRuntime } from './runtime.js';
import { parseCommand } from './flags.js';
import { LIMIT_SERVE_FLAGS, LIMIT_SERVE_USAGE, connectionLimitsFromFlags } from './serve-limits.js';
import { shutdownHandler } from './shutdown.js';

const USAGE = `usage: portcullis serve [flags]
  --config FILE         PortcullisConfig YAML (default: the built-in config); reloaded on change
  --host ADDR           listen address (default 0.0.0.0)
  --port N              HTTPS port for /validate, /validate/audit, /mutate, /healthz, /readyz, /metrics (default 8443)
  --tls-cert FILE       serving certificate (PEM); reloaded on change
  --tls-key FILE        serving key (PEM)
  --tls-san NAME        SAN for the generated certificate, repeatable (default localhost, 127.0.0.1)
  --cert-dir DIR        where a generated CA and certificate are written (default $TMPDIR/portcullis-certs)
  --cert-mode MODE      file (--tls-cert/--tls-key) | generate (at start, in --cert-dir) | self (in-cluster: a shared
                        Secret, the webhook configuration's caBundle patched, renewed and rotated automatically)
                        (default: file when --tls-cert is given, else generate)
  --cert-secret NAME    self mode: the Secret holding the CA and serving pair (default portcullis-tls)
  --webhook-config NAME self mode: the ValidatingWebhookConfiguration whose caBundle is patched (default portcullis)
  --mutating-webhook-config NAME
                        self mode: the MutatingWebhookConfiguration (digest pinning) whose caBundle is kept in step
                        when it exists (default: the --webhook-config name)
  --service-name NAME   self mode: the Service the API server calls; its DNS names are the SANs (default portcullis)
  --namespace NS        self mode: namespace of the Secret and Service (default $POD_NAMESPACE)
  --kubeconfig FILE     API credentials for self mode, the background audit, owner events and the fail-safe (default: in-cluster)
  --fail-safe           keep the fail-safe ValidatingAdmissionPolicies (portcullis vap) in step with the config:
                        applied on start and on every config change, stale ones deleted (docs/failsafe.md)
  --cert-validity D     self mode: serving certificate lifetime (default 90d)
  --cert-ca-validity D  self mode: CA lifetime (default 730d)
  --cert-renew-before X self mode: renew when less than X% of the lifetime, or less than a duration, remains (default 33%)
  --cert-rotation-overlap D  self mode: each step of a CA rotation lasts this long (default 60s)
  --cert-poll-interval D     self mode: how often the Secret is re-read (default 10s)
  --shutdown-delay SEC  after SIGTERM, keep serving this long with /readyz 503, every answer closing its connection
                        (HTTP/1.1 Connection: close, HTTP/2 GOAWAY) (default 0)
  --shutdown-grace SEC  then accept no new connections, answer requests on open ones, and exit once they have
                        closed, at the latest after this (default 20)
${LIMIT_SERVE_USAGE}
  --log-level LEVEL     trace|debug|info|warn|error (default info)
${AUDIT_SERVE_USAGE}
${OWNER_EVENT_SERVE_USAGE}
${EXCEPTION_SERVE_USAGE}`;

const FLAGS = {
  config: { type: 'string' },
  host: { type: 'string', default: '0.0.0.0' },
  port: { type: 'string', default: '8443' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-san': { type: 'string', multiple: true },
  'cert-dir': { type: 'string' },
  'cert-mode': { type: 'string' },
  'cert-secret': { type: 'string', default: 'portcullis-tls' },
  'webhook-config': { type: 'string', default: 'portcullis' },
  'mutating-webhook-config': { type: 'string' },
  'service-name': { type: 'string', default: 'portcullis' },
  namespace: { type: 'string' },
  kubeconfig: { type: 'string' },
  'fail-safe': { type: 'boolean', default: false },
  'cert-validity': { type: 'string', default: '90d' },
  'cert-ca-validity': { type: 'string', default: '730d' },
  'cert-renew-before': { type: 'string', default: '33%' },
  'cert-rotation-overlap': { type: 'string', default: '60s' },
  'cert-poll-interval': { type: 'string', default: '10s' },
  'shutdown-delay': { type: 'string', default: '0' },
  'shutdown-grace': { type: 'string', default: '20' },
  'log-level': { type: 'string', default: 'info' },
  ...LIMIT_SERVE_FLAGS,
  ...AUDIT_SERVE_FLAGS,
  ...OWNER_EVENT_SERVE_FLAGS,
  ...EXCEPTION_SERVE_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

interface TlsFlags {
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-san'?: string[];
  'cert-dir'?: string;
  'cert-mode'?: string;
  'cert-secret': string;
  'webhook-config': string;
  'mutating-webhook-config'?: string;
  'service-name': string;
  namespace?: string;
  kubeconfig?: string;
  'cert-validity': string;
  'cert-ca-validity': string;
  'cert-renew-before': string;
  'cert-rotation-overlap': string;
  'cert-poll-interval': string;
}

// Self mode: the shared Secret, the patched caBundle, renewal and CA rotation (src/certs).
async function selfTls(values: TlsFlags, logger: Logger): Promise<TlsSource> {
  // loaded here: @kubernetes/client-node costs seconds of start-up that file and generate modes need not pay
  const { parseDuration, parseRenewBefore, selfManagedTlsSource } = await import('../certs/index.js');
  const namespace = values.namespace ?? process.env.POD_NAMESPACE;
  if (!namespace) throw new Error('--cert-mode self: expected --namespace or $POD_NAMESPACE, got neither');
  const servingValidityMs = parseDuration(values['cert-validity'], '--cert-validity');
  const caValidityMs = parseDuration(values['cert-ca-validity'], '--cert-ca-validity');
  const renewBefore = parseRenewBefore(values['cert-renew-before'], '--cert-renew-before');
  if ('ms' in renewBefore && renewBefore.ms >= servingValidityMs) {
    throw new Error(`--cert-renew-before: expected less than --cert-validity (${values['cert-validity']}), got "${values['cert-renew-before']}"`);
  }
  if (caValidityMs <= servingValidityMs) {
    throw new Error(`--cert-ca-validity: expected more than --cert-validity (${values['cert-validity']}), got "${values['cert-ca-validity']}"`);
  }
  const source = await selfManagedTlsSource(
    {
      namespace,
      secretName: values['cert-secret'],
      webhookConfigName: values['webhook-config'],
      mutatingWebhookConfigName: values['mutating-webhook-config'] ?? values['webhook-config'],
      serviceName: values['service-name'],
      extraSans: values['tls-san'] ?? [],
      servingValidityMs,
      caValidityMs,
      renewBefore,
      overlapMs: parseDuration(values['cert-rotation-overlap'], '--cert-rotation-overlap'),
      pollIntervalMs: parseDuration(values['cert-poll-interval'], '--cert-poll-interval'),
      ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}),
    },
    logger,
  );
  logger.info({ secret: `${namespace}/${values['cert-secret']}`, webhookConfig: values['webhook-config'] }, 'self-managed TLS ready');
  return source;
}

async function tlsFrom(values: TlsFlags, logger: Logger): Promise<TlsSource> {
  const certFile = values['tls-cert'];
  const keyFile = values['tls-key'];
  const mode = values['cert-mode'] ?? (certFile ? 'file' : 'generate');
  if (mode === 'self') return selfTls(values, logger);
  if (mode !== 'file' && mode !== 'generate') throw new Error(`--cert-mode: expected file, generate or self, got "${mode}"`);
  if (mode === 'file' && !(certFile && keyFile)) throw new Error('--cert-mode file: expected --tls-cert and --tls-key, got none or one');
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

// The API client the fail-safe sync uses.
async function failSafeClient(kubeconfig: string | undefined) {
  const { createKubeClient, loadKubeConfig } = await import('../kube/client.js');
  return createKubeClient(await loadKubeConfig(kubeconfig ? { kubeconfig } : {}), { maxSockets: 1 });
}

export async function runServe(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, FLAGS, USAGE);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const logger = pino({ level: values['log-level'], base: { name: 'portcullis' }, redact: ['req.headers.authorization'] });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`portcullis: --port: expected 0-65535, got "${values.port}"\n`);
    return 2;
  }
  const metrics = new Registry();
  let exceptions;
  try {
    exceptions = exceptionsFromFlags(values, { logger, registry: metrics });
  } catch (err) {
    process.stderr.write(`portcullis: ${(err as Error).message}\n`);
    return 2;
  }
  let runtime;
  try {
    runtime = await createRuntime({ configPath: values.config, logger, metrics, watch: true, policies: POLICIES, ...(exceptions ? { exceptions: exceptions.store } : {}) });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const p of err.problems) process.stderr.write(`portcullis: config ${values.config ?? '(built-in)'}: ${p.path}: ${p.reason}\n`);
    return 2;
  }
  const delay = seconds(values['shutdown-delay'], 'shutdown-delay');
  const grace = seconds(values['shutdown-grace'], 'shutdown-grace');
  const limits = connectionLimitsFromFlags(values);
  const tls = await tlsFrom(values, logger);
  const ownerEvents = await ownerEventsFromFlags(values, logger);
  const { app, readiness, drain } = await buildApp({ engine: runtime.engine, tls, logger, metrics, limits, ...(ownerEvents ? { onDecision: ownerEvents.record } : {}) });
  const exceptionWatch = await exceptions?.start();
  const failSafe = values['fail-safe'] ? await failSafeClient(values.kubeconfig) : undefined;
  // the fail-safe renders CEL: loaded only when it is on
  if (failSafe) void (await import('../failsafe/sync.js')).keepFailSafeInStep(failSafe, runtime.config, logger);
  app.addHook('onClose', async () => failSafe?.close());
  const audit = await startBackgroundAuditFromFlags(values, { engine: runtime.engine, config: () => runtime.config.current(), logger, registry: metrics });
  app.addHook('onClose', async () => {
    await audit?.stop();
    await ownerEvents?.close();
    await exceptionWatch?.stop();
  });
  app.addHook('onClose', async () => runtime.close());
  const address = await app.listen({ host: values.host, port });
  logger.info({ address, config: values.config ?? 'built-in' }, 'portcullis is serving');
  const stop = shutdownHandler({ app, readiness, drain, logger, delayMs: delay, graceMs: grace });
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return -1;
}
