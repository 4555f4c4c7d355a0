// Pieces shared by the `audit` and `scan` tables: verdict labels (coloured on a terminal), violation lines, plurals.
import type { Decision, Violation } from '../engine/decision.js';
import type { Verdict } from './subject.js';
import { deniesWhenEnforced } from './subject.js';

export interface TableOptions {
  /** ANSI colours for verdicts and effects (a terminal without NO_COLOR) */
  readonly color?: boolean;
}

const COLORS: Readonly<Record<string, string>> = { DENY: '31', WARN: '33', PASS: '32', SKIP: '2', deny: '31', warn: '33', audit: '36' };

// Pads a label to its column and colours it when asked.
function paint(label: string, width: number, options: TableOptions): string {
  const padded = label.padEnd(width);
  const code = COLORS[label];
  return options.color && code ? `\u001b[${code}m${label}\u001b[0m${padded.slice(label.length)}` : padded;
}

const VERDICT_LABELS: Readonly<Record<Verdict, string>> = { deny: 'DENY', warn: 'WARN', pass: 'PASS', skipped: 'SKIP' };

/** The verdict column: "DENY ", "WARN ", "PASS ", "SKIP ". */
export function verdictLabel(verdict: Verdict, options: TableOptions): string {
  return paint(VERDICT_LABELS[verdict], 5, options);
}

// What a violation does, as the table shows it: deny (also a deny that audit mode made a warning), warn or audit.
function effectLabel(v: Violation): string {
  return deniesWhenEnforced(v) ? 'deny' : v.effect;
}

/** The indented lines under a resource: its refusal without a policy, then each violation marked with its effect. */
export function violationLines(decision: Decision, options: TableOptions): string[] {
  const lines: string[] = [];
  if (decision.message && decision.violations.length === 0) lines.push(`     ${decision.message}`);
  for (const v of decision.violations) lines.push(`     ${paint(effectLabel(v), 6, options)}${v.message}`);
  for (const u of decision.exceptions ?? []) lines.push(`     ${'skip'.padEnd(6)}${u.message} (exception ${u.exception}, until ${u.expires})`);
  return lines;
}

/** "1 resource", "2 resources". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Colour when stdout is a terminal and NO_COLOR is unset or empty (https://no-color.org); FORCE_COLOR forces it. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}
