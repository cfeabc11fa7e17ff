/** The spec module's public API: Service YAML in, validated and normalised specs out. */
export { parseSpecs } from './parse.ts';
export { SpecError, formatIssue, type SpecIssue } from './spec-error.ts';
export { serviceSchema, API_VERSION, type ServiceSpec, type DriverSchemas } from './service-schema.ts';
export { jsonSchema } from './json-schema.ts';
export { interpolate, templateOf, templateHash, UnknownPlaceholderError } from './interpolate.ts';
export { evidenceWarningsOf } from './evidence-warnings.ts';
