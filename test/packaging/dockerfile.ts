// A small Dockerfile reader for the packaging tests: instructions, stages, exec-form arguments.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Instruction {
  readonly keyword: string;
  /** the text after the keyword, continuation lines joined */
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

// Splits a Dockerfile into instructions (comments dropped, backslash continuations joined).
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let buffer = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trimEnd();
    if (!buffer && (line.trim() === '' || line.trim().startsWith('#'))) return;
    if (buffer && line.trim().startsWith('#')) return;
    if (!buffer) start = i + 1;
    if (line.endsWith('\\')) {
      buffer += `${line.slice(0, -1)} `;
      return;
    }
    buffer += line;
    const match = /^\s*(\S+)\s*(.*)$/s.exec(buffer);
    if (match) out.push({ keyword: (match[1] as string).toUpperCase(), args: (match[2] as string).trim(), line: start });
    buffer = '';
  });
  return out;
}

// Groups instructions by FROM.
export function stages(instructions: readonly Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      out.push({ from: m?.[1] ?? ins.args, ...(m?.[2] ? { name: m[2] } : {}), instructions: [] });
    } else {
      out.at(-1)?.instructions.push(ins);
    }
  }
  return out;
}

// The JSON array of an exec-form instruction (after any --options), or undefined for shell form.
export function execForm(args: string): string[] | undefined {
  const json = args.slice(args.indexOf('['));
  if (!args.includes('[')) return undefined;
  try {
    const v: unknown = JSON.parse(json);
    return Array.isArray(v) && v.every((s) => typeof s === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

export function readDockerfile(): { text: string; instructions: Instruction[]; stages: Stage[] } {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8');
  const instructions = parseDockerfile(text);
  return { text, instructions, stages: stages(instructions) };
}
