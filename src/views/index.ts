/**
 * What crosses the wire: the shapes the API answers with, and the pure functions that build them
 * from the core's state. The CLI and the dashboard import this module only, never the engine.
 */
export type { ServiceEvent } from '../core/events.ts';
export { describeEvent, type Versions } from '../core/describe-event.ts';
export { describeBound } from '../core/analysis/figures.ts';
export type { ApplyResult } from './apply-result.ts';
export type { EnvironmentsView, GateView, GovernancePhase, PlanAnswer, PlanView } from './plan.ts';
export type { ContractRule, ReleaseTimeline, Revision, RevisionSummary, TimelineStep } from './release-timeline.ts';
export type { ReleaseView, RollbackView, ServiceStatus, VerdictView } from './service-status.ts';
export type { SpecDifference } from './spec-difference.ts';
export type { TrainView } from './train.ts';
export type { DependencyGraph } from '../core/graph/index.ts';
export { appendVerdicts, type RuleSeries, type VerdictSeries } from './verdict-series.ts';
export type { FourKeys } from '../core/analytics/four-keys.ts';
export { trendCharts } from '../core/analytics/weekly-report.ts';
export type { GeneratedDocument } from '../core/documents/types.ts';
export type { Storyboard, Frame, ChecklistItem } from '../core/documents/storyboard.ts';
export type { DrillRecord, TimelineEntry as DrillTimelineEntry } from '../core/drills/record.ts';
export type { DrillTraffic } from '../core/drills/events.ts';
export type { DrillRunRow, GameDaysView, ScheduledDrill } from './gamedays.ts';
export { flagChanges, flagExposure, type FlagChange, type FlagExposure } from './flag-history.ts';
export type { FlagVariantSeries } from './flag-variants.ts';
