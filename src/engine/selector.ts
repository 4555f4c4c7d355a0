// Kubernetes label selectors (matchLabels and matchExpressions), as the API server evaluates them.
import { isObject } from '../workload/k8s.js';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly LabelRequirement[];
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

// Whether the labels satisfy every term of the selector.
export function selectorMatches(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    if (r.operator === 'Exists' && !has) return false;
    if (r.operator === 'DoesNotExist' && has) return false;
    if (r.operator === 'In' && !(has && (r.values ?? []).includes(value as string))) return false;
    if (r.operator === 'NotIn' && has && (r.values ?? []).includes(value as string)) return false;
  }
  return true;
}

/** Whether a selector has no term at all (it would select every object). */
export function selectorIsEmpty(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

// Reads a selector from JSON; a problem string when it is malformed.
export function readSelector(value: unknown, path: string): LabelSelector | string {
  if (!isObject(value)) return `${path}: expected an object, got ${JSON.stringify(value)}`;
  const matchLabels: Record<string, string> = {};
  if (value.matchLabels !== undefined) {
    if (!isObject(value.matchLabels)) return `${path}.matchLabels: expected an object of strings`;
    for (const [k, v] of Object.entries(value.matchLabels)) {
      if (typeof v !== 'string') return `${path}.matchLabels.${k}: expected a string, got ${JSON.stringify(v)}`;
      matchLabels[k] = v;
    }
  }
  const matchExpressions: LabelRequirement[] = [];
  if (value.matchExpressions !== undefined) {
    if (!Array.isArray(value.matchExpressions)) return `${path}.matchExpressions: expected a list`;
    for (const [i, e] of value.matchExpressions.entries()) {
      const at = `${path}.matchExpressions[${i}]`;
      if (!isObject(e) || typeof e.key !== 'string' || !OPERATORS.includes(e.operator as string)) return `${at}: expected {key, operator: ${OPERATORS.join('|')}}`;
      const values = e.values === undefined ? [] : e.values;
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'string')) return `${at}.values: expected a list of strings`;
      const needsValues = e.operator === 'In' || e.operator === 'NotIn';
      if (needsValues !== values.length > 0) return `${at}.values: expected ${needsValues ? 'at least one value' : 'no values'} for ${String(e.operator)}`;
      matchExpressions.push({ key: e.key, operator: e.operator as LabelRequirement['operator'], ...(needsValues ? { values } : {}) });
    }
  }
  return { matchLabels, matchExpressions };
}
