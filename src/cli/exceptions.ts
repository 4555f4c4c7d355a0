// `--exceptions FILE...` of audit and scan: PolicyExceptions read from files into the store the engine reads,
// checked exactly as the server checks them (an invalid one is a warning line and applies nowhere).
import type { Logger } from 'pino';
import { readManifests } from '../audit/manifests.js';
import { POLICY_IDS } from '../engine/registry.js';
import { createExceptionStore } from '../exceptions/store.js';
import type { ExceptionStore } from '../exceptions/store.js';
import { maxDurationOf } from '../exceptions/serve.js';

export const EXCEPTION_FLAGS = {
  exceptions: { type: 'string', multiple: true },
  'exception-max-duration': { type: 'string' },
} as const;

export const EXCEPTION_USAGE = `  --exceptions PATH     PolicyExceptions (portcullis.dev/v1alpha1) to apply, as the webhook does: a file or
                        directory; repeatable; an expired or invalid exception applies nowhere (with a warning)
  --exception-max-duration D  an exception expiring later than this from now is ignored (default 90d)`;

// Reads every PolicyException in the paths; undefined when no path is given. Throws ManifestError on unreadable files.
export function exceptionFiles(paths: readonly string[] | undefined, maxDuration: string | undefined, logger: Logger): ExceptionStore | undefined {
  if (!paths?.length) return undefined;
  const store = createExceptionStore({ logger, policyIds: POLICY_IDS, maxDurationMs: maxDurationOf(maxDuration) });
  for (const m of readManifests(paths, () => '')) store.upsert(m.object);
  return store;
}
