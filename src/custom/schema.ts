// JSON schema of a custom policy declaration (the config's customPolicies entries and policy files).
const TEXT = { type: 'string', minLength: 1 } as const;

/** The shape of a policy id, built-in or custom. */
export const POLICY_ID_PATTERN = '^[a-z][a-z0-9-]{0,62}$';

/** A rule: CEL expression, message (text or CEL) and fix, each non-empty text. */
const RULE = {
  type: 'object',
  additionalProperties: false,
  required: ['expression'],
  properties: Object.fromEntries(['expression', 'message', 'messageExpression', 'fix'].map((k) => [k, TEXT])),
} as const;

export const CUSTOM_POLICY_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'title'],
  anyOf: [{ required: ['validations'] }, { required: ['containerValidations'] }],
  properties: {
    id: { type: 'string', pattern: POLICY_ID_PATTERN },
    title: TEXT,
    description: TEXT,
    severity: { enum: ['critical', 'high', 'medium', 'low', 'info'] },
    category: { enum: ['Pod Security', 'Supply Chain', 'Best Practices'] },
    action: { enum: ['deny', 'warn', 'audit', 'off'] },
    onError: { enum: ['deny', 'allow'] },
    exclude: { type: 'object', additionalProperties: false, properties: { images: { type: 'array', items: TEXT } } },
    image: { type: 'boolean' },
    params: { type: 'object' },
    validations: { type: 'array', items: RULE, minItems: 1 },
    containerValidations: { type: 'array', items: RULE, minItems: 1 },
  },
} as const;

/** The config's `customPolicies` section: inline declarations and directories of policy files. */
export const CUSTOM_POLICIES_SECTION = {
  type: 'object',
  additionalProperties: false,
  properties: {
    policies: { type: 'array', items: CUSTOM_POLICY_SCHEMA },
    directories: { type: 'array', items: TEXT },
  },
} as const;
