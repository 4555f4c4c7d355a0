// `--exceptions FILE...` of audit and scan: PolicyExceptions read from files into the store the engine reads,
// checked exactly as the server checks them (an invalid one is a warning line and applies nowhere).
import type { Logger } from 'pino';
import { readManifests } from '../audit/manifests.js';
import { POLICY_IDS } from '../../policies/index.js';
import { createExceptionStore } from '../exceptions/store.js';
import type { ExceptionStore } from '../exceptions/store.js';
import { maxDurationOf } from '../exceptions/serve.js';
import { EXCEPTION_API_VERSION, EXCEPTION_PLURAL } from '../engine/exception-spec.js';
import type { KubeClient } from '../kube/client.js';

export const EXCEPTION_FLAGS = {
  exceptions: { type: 'string', multiple: true },
  'exception-max-duration': { type: 'string' },
} as const;

export const EXCEPTION_USAGE = `  --exceptions PATH     PolicyExceptions (portcullis.dev/v1alpha1) to apply, as the webhook does: a file or
                        directory; repeatable; an expired or invalid exception applies nowhere (with a warning)
  --exception-max-duration D  an exception expiring later than this from now is ignored (default 90d)`;

// Reads every PolicyException in the paths; undefined when no path is given (and `always` is not set). Throws
// ManifestError on unreadable files.
export function exceptionFiles(paths: readonly string[] | undefined, maxDuration: string | undefined, logger: Logger, always = false): ExceptionStore | undefined {
  if (!paths?.length && !always) return undefined;
  const store = createExceptionStore({ logger, policyIds: POLICY_IDS, maxDurationMs: maxDurationOf(maxDuration) });
  if (paths?.length) for (const m of readManifests(paths, () => '')) store.upsert(m.object);
  return store;
}

// Adds the PolicyExceptions of these cluster namespaces (scan --exception-namespace), as the server reads them.
export async function clusterExceptions(client: KubeClient, namespaces: readonly string[], store: ExceptionStore): Promise<void> {
  for (const ns of namespaces) {
    const list = await client.request<{ items?: unknown[] }>({ path: `/apis/${EXCEPTION_API_VERSION}/namespaces/${encodeURIComponent(ns)}/${EXCEPTION_PLURAL}` });
    for (const item of list.items ?? []) store.upsert(item);
  }
}
