// A custom policy as the config declares it.
import type { Action, Category, CelRule, Severity } from '../engine/types.js';

/** A custom rule is a CEL rule. */
export type CustomRuleDecl = CelRule;

export interface CustomPolicyDecl {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly severity?: Severity;
  readonly category?: Category;
  readonly action?: Action;
  /** what a rule that cannot be evaluated does: deny (a violation naming the error; default) or allow */
  readonly onError?: 'deny' | 'allow';
  readonly exclude?: { readonly images?: readonly string[] };
  /** look up the image config (User, Env, labels, digest, size) for the per-container rules' `image` */
  readonly image?: boolean;
  readonly params?: Readonly<Record<string, unknown>>;
  /** rules over the whole object: object, oldObject, request, params, pod */
  readonly validations?: readonly CustomRuleDecl[];
  /** rules for each container: also container and image */
  readonly containerValidations?: readonly CustomRuleDecl[];
}
