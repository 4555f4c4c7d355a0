// SARIF 2.1.0 output: one rule per policy, one result per violation, located at the offending container's line.
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Violation } from '../engine/decision.js';
import type { Policy } from '../engine/types.js';
import type { AuditSubject } from './subject.js';
import { deniesWhenEnforced, resourceId } from './subject.js';

export const SARIF_SCHEMA_URI = 'https://json.schemastore.org/sarif-2.1.0.json';
export const INVALID_OBJECT_RULE = 'invalid-object';
const INFORMATION_URI = 'https://portcullis.dev';

export interface SarifOptions {
  /** the tool version written to tool.driver.version */
  readonly version: string;
  /** the policy list the results come from: one rule each */
  readonly policies: readonly Policy[];
  /** directory file URIs are made relative to (default: the working directory) */
  readonly baseDir?: string;
}

interface Rule {
  id: string;
  name: string;
  shortDescription: { text: string };
  fullDescription: { text: string };
  help: { text: string; markdown: string };
  defaultConfiguration: { level: 'error' | 'warning' | 'note' };
  properties: { tags: string[]; 'security-severity'?: string; problem?: { severity: 'error' | 'warning' | 'recommendation' } };
}

// GitHub code scanning's numeric security-severity for each severity.
const SECURITY_SEVERITY: Record<Policy['severity'], string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0', info: '0.0' };

function camel(id: string): string {
  return id.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());
}

// Rule metadata for every policy of the list, plus the rule for objects whose pod spec cannot be read.
export function sarifRules(policies: readonly Policy[]): Rule[] {
  const rules: Rule[] = policies.map((p) => {
    const config = `Configure it in the PortcullisConfig: policies.${p.id}.action (deny, warn, audit, off) and policies.${p.id}.exclude.images.`;
    return {
      id: p.id,
      name: camel(p.id),
      shortDescription: { text: p.title },
      fullDescription: { text: p.description },
      help: {
        text: `${p.description} Each result names the container and the change that fixes it. ${config}`,
        markdown: `**${p.title}**\n\n${p.description}\n\nEach result names the container and the change that fixes it. ${config.replace(/policies\.[\w-]+\.(?:action|exclude\.images)/g, (m) => `\`${m}\``)}`,
      },
      defaultConfiguration: { level: p.defaultAction === 'deny' ? 'error' : 'warning' },
      properties: { tags: ['security', 'kubernetes', 'portcullis', p.category], 'security-severity': SECURITY_SEVERITY[p.severity] },
    };
  });
  rules.push({
    id: INVALID_OBJECT_RULE,
    name: 'InvalidObject',
    shortDescription: { text: 'The pod spec cannot be read' },
    fullDescription: { text: 'A field of the pod spec has the wrong type, so no policy can check it; the webhook refuses such objects.' },
    help: { text: 'Fix the field named in the message so the pod spec can be checked.', markdown: 'Fix the field named in the message so the pod spec can be checked.' },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['kubernetes', 'portcullis'] },
  });
  return rules;
}

function levelOf(v: Violation): 'error' | 'warning' | 'note' {
  if (deniesWhenEnforced(v)) return 'error';
  return v.effect === 'warn' ? 'warning' : 'note';
}

// A file path as a SARIF artifact URI: relative (forward slashes) under baseDir, else a file:// URI.
function artifactUri(file: string, baseDir: string): string {
  const abs = resolve(baseDir, file);
  const rel = relative(baseDir, abs);
  if (rel.startsWith('..') || isAbsolute(rel)) return pathToFileURL(abs).href;
  return rel.split(sep).map(encodeURIComponent).join('/');
}

function locationsOf(subject: AuditSubject, line: number | undefined, baseDir: string, container?: string) {
  const logical = {
    fullyQualifiedName: container ? `${resourceId(subject)}/${container}` : resourceId(subject),
    kind: 'resource',
  };
  if (!subject.file || subject.file === '<stdin>') {
    // rendered on stdin (helm template | portcullis audit -f -): point at the template, without a line
    if (subject.source) return [{ physicalLocation: { artifactLocation: { uri: artifactUri(subject.source, baseDir) } }, logicalLocations: [logical] }];
    return [{ logicalLocations: [logical] }];
  }
  return [
    {
      physicalLocation: {
        artifactLocation: { uri: artifactUri(subject.file, baseDir) },
        region: { startLine: line ?? subject.line ?? 1 },
      },
      logicalLocations: [logical],
    },
  ];
}

// The SARIF log for these results (skipped resources produce nothing).
export function sarifLog(subjects: readonly AuditSubject[], options: SarifOptions) {
  const rules = sarifRules(options.policies);
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const baseDir = options.baseDir ?? process.cwd();
  type SarifResult = {
    ruleId: string;
    ruleIndex: number;
    level: 'error' | 'warning' | 'note';
    message: { text: string };
    locations: ReturnType<typeof locationsOf>;
    properties: Record<string, unknown>;
  };
  const results = subjects.flatMap((s): SarifResult[] => {
    if (s.decision.skipped) return [];
    if (!s.decision.allowed && s.decision.violations.length === 0) {
      return [
        {
          ruleId: INVALID_OBJECT_RULE,
          ruleIndex: index.get(INVALID_OBJECT_RULE) ?? 0,
          level: 'error' as const,
          message: { text: `${resourceId(s)}: ${s.decision.message ?? 'invalid object'}` },
          locations: locationsOf(s, s.line, baseDir),
          properties: { resource: resourceId(s) },
        },
      ];
    }
    return s.decision.violations.map((v) => {
      const where = v.container ? `${v.container.list}[${v.container.index}]` : undefined;
      const line = v.container ? s.containerLine?.(v.container.list, v.container.index) : undefined;
      return {
        ruleId: v.policy,
        ruleIndex: index.get(v.policy) ?? 0,
        level: levelOf(v),
        message: { text: `${resourceId(s)}: ${v.message}` },
        locations: locationsOf(s, line, baseDir, where),
        properties: {
          resource: resourceId(s),
          ...(v.container ? { container: v.container.name } : {}),
          ...(v.code ? { code: v.code } : {}),
          effect: v.effect,
          deniesWhenEnforced: deniesWhenEnforced(v),
          fix: v.fix,
          ...(s.pods !== undefined ? { pods: s.pods } : {}),
        },
      };
    });
  });
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0' as const,
    runs: [
      {
        tool: { driver: { name: 'portcullis', version: options.version, informationUri: INFORMATION_URI, rules } },
        results,
      },
    ],
  };
}

export function formatSarif(subjects: readonly AuditSubject[], options: SarifOptions): string {
  return `${JSON.stringify(sarifLog(subjects, options), null, 2)}\n`;
}
