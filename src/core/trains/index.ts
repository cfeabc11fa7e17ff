/** Release trains: the pure part (plan, one step, abort) and the events a train's log holds. */
export type {
  OnFailure,
  ServiceObservation,
  TrainAction,
  TrainForwarded,
  TrainPositions,
  TrainApproval,
  TrainApprovalPolicy,
  TrainServiceState,
  TrainServiceStatus,
  TrainSpec,
  TrainState,
  TrainStatus,
  TrainWindow,
} from './types.ts';
export { APPROVAL_ROLES, ON_FAILURE, trainMembers } from './types.ts';
export {
  approvalProgress,
  describeTrainEvent,
  isRunning,
  reduceTrain,
  TRAIN_EVENT_TYPES,
  type TrainEvent,
  type TrainEventType,
} from './train-events.ts';
export { abortTrain, stepTrain, type TrainDecision } from './step.ts';
export { planTrain } from './plan.ts';
export { pendingActions } from './pending.ts';
export { rejectTrain, trainApprovalRefusal, trainRejectionRefusal } from './approval.ts';
export { nextRuns, type TrainSchedule } from './schedule.ts';
