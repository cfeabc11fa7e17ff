/** The spec module's public API: Service YAML in, validated and normalised specs out. */
export { parseSpecs } from './parse.ts';
export { SpecError, formatIssue, type SpecIssue } from './spec-error.ts';
export { serviceSchema, API_VERSION, type ServiceSpec, type DriverSchemas } from './service-schema.ts';
export { jsonSchema } from './json-schema.ts';
export { interpolate, templateOf, templateHash, UnknownPlaceholderError } from './interpolate.ts';
export { evidenceWarningsOf } from './evidence-warnings.ts';
export { SpecParser, SpecParserBusyError, PARSE_DEADLINE_MS, type SpecParserOptions } from './spec-parser.ts';
export { SPEC_LIMITS, SpecLimitError, checkSpecLimits, type SpecLimits } from './spec-limits.ts';
export type { SpecText } from './spec-text.ts';
export { parsePolicy, releasePolicySchema, type ReleasePolicy } from './release-policy-schema.ts';
export {
  importArgo,
  formatNote,
  ARGO_KINDS,
  type ArgoImportOptions,
  type ArgoImportResult,
  type ImportNote,
} from './argo/index.ts';
export type { MigrationsSpec, DatabaseSpec, MigrationStep } from './migrations-schema.ts';
export { parseGameDay, gameDaySchema } from './gameday-schema.ts';
