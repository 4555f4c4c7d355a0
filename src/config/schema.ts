// JSON Schema of the PortcullisConfig file, built from the policy registry.
import type { Policy } from '../engine/types.js';
import { CUSTOM_POLICIES_SECTION, POLICY_ID_PATTERN } from '../custom/schema.js';

const ACTIONS = ['deny', 'warn', 'audit', 'off'];
const NAMESPACE = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 };

const SETTINGS = {
  action: { enum: ACTIONS },
  exclude: {
    type: 'object',
    additionalProperties: false,
    properties: { images: { type: 'array', items: { type: 'string', minLength: 1 } } },
  },
};

/** The keys of a PortcullisConfig document (a `--set` path starting with another key names a policy). */
export const CONFIG_KEYS = ['apiVersion', 'kind', 'mode', 'registry', 'podSecurity', 'policies', 'customPolicies', 'exclude', 'audit', 'pinning'] as const;

/** The settings a policy takes under `policies.<id>`: action, exclude.images and these parameters. */
export function policySettingsSchema(paramsSchema: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return { type: 'object', additionalProperties: false, properties: { ...SETTINGS, ...paramsSchema } };
}

/** A custom policy's settings, before its declaration is read: action, exclude.images, any parameter (checked at load). */
const CUSTOM_SETTINGS = { type: 'object', properties: SETTINGS };

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
        propertyNames: { pattern: POLICY_ID_PATTERN },
        properties: Object.fromEntries(policies.map((p) => [p.id, policySettingsSchema(p.paramsSchema)])),
        additionalProperties: CUSTOM_SETTINGS,
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
