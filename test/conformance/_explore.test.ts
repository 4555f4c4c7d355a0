import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { it } from 'vitest';
import { engineWith } from '../helpers/engine.js';
import { evaluateObject } from '../helpers/pods.js';
const base = new URL('../../../shared/conformance/', import.meta.url);
it('explore', async () => {
  const cases = JSON.parse(readFileSync(new URL('cases.json', base), 'utf8'));
  const ids: Record<string, string> = { runAsNonRoot: 'require-non-root-user', runAsUser: 'require-non-root-user', capabilities: 'require-drop-all-capabilities', latestTag: 'disallow-latest-tag', readOnlyRootFilesystem: 'require-read-only-root-filesystem' };
  const out: string[] = [];
  for (const c of cases) {
    const docs = parseAllDocuments(readFileSync(new URL(c.file, base), 'utf8'));
    let obj = docs.map((d) => d.toJS()).filter((x) => x != null)[c.doc];
    if (obj.kind === 'AdmissionReview') obj = obj.request.object;
    const params: any = c.control === 'runAsNonRoot' || (c.control === 'runAsUser' && c.source === 'psa') ? { requireRunAsNonRoot: true } : {};
    const d = await evaluateObject(engineWith({ [ids[c.control]]: params }), obj);
    const got = d.allowed ? 'allow' : 'deny';
    if (got !== c.expect || got !== c.strict_expect) out.push(`${c.source}\t${c.control}\t${c.file}#${c.doc}\t${c.kind}/${c.name}\texp=${c.expect}\tstrict=${c.strict_expect}\tgot=${got}\t${c.partial ? 'partial' : ''}\t${(c.note ?? '').slice(0, 200)}\t${d.skipped ?? ''}\t${d.message?.slice(0, 200) ?? ''}`);
  }
  console.log(out.join('\n'));
  console.log(out.length);
});
