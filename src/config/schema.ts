// JSON Schema of the PortcullisConfig file, built from the policy registry.
import type { Policy } from '../engine/types.js';
import { CUSTOM_POLICIES_SECTION } from '../custom/schema.js';

const ACTIONS = ['deny', 'warn', 'audit', 'off'];
const NAMESPACE = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };

function policySchema(policy: Policy): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      action: { enum: ACTIONS },
      exclude: {
        type: 'object',
        additionalProperties: false,
        properties: { images: { type: 'array', items: { type: 'string', minLength: 1 } } },
      },
      ...policy.paramsSchema,
    },
  };
}

// Builds the config schema for these policies and this registry section schema.
export function configSchema(policies: readonly Policy[], registrySchema: Record<string, unknown>): Record<string, unknown> {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind'],
    properties: {
      apiVersion: { const: 'portcullis.dev/v1alpha1' },
      kind: { const: 'PortcullisConfig' },
      mode: { enum: ['enforce', 'audit'] },
      registry: registrySchema,
      podSecurity: {
        type: ['object', 'null'],
        additionalProperties: false,
        required: ['level'],
        properties: { level: { enum: ['baseline', 'restricted'] }, action: { enum: ['deny', 'warn', 'audit'] } },
      },
      policies: {
        type: 'object',
        additionalProperties: false,
        properties: Object.fromEntries(policies.map((p) => [p.id, policySchema(p)])),
      },
      customPolicies: CUSTOM_POLICIES_SECTION,
      exclude: {
        type: 'object',
        additionalProperties: false,
        properties: { namespaces: { type: 'array', items: NAMESPACE, uniqueItems: true } },
      },
      audit: {
        type: 'object',
        additionalProperties: false,
        properties: { namespaces: { type: 'array', items: NAMESPACE, uniqueItems: true } },
      },
      pinning: {
        type: 'object',
        additionalProperties: false,
        properties: {
          enabled: { enum: [true, false, 'auto'] },
          required: { type: 'boolean' },
          exclude: {
            type: 'object',
            additionalProperties: false,
            properties: {
              namespaces: { type: 'array', items: NAMESPACE, uniqueItems: true },
              images: { type: 'array', items: { type: 'string', minLength: 1 } },
            },
          },
        },
      },
    },
  };
}
