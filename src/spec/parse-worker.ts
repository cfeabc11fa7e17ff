/**
 * The body of a spec parse worker (see spec-parser.ts): reads one text at a time. The driver
 * schemas come from the module named in workerData, so the spec layer does not import drivers.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import type { DriverSchemas } from './service-schema.ts';
import type { SpecLimits } from './spec-limits.ts';
import { readSpecText } from './spec-text.ts';

export interface ParseJob {
  text: string;
  file: string;
  limits: SpecLimits;
}

const { schemasModule, answers } = workerData as { schemasModule: string; answers: MessagePort };
const { driverSchemas } = (await import(schemasModule)) as { driverSchemas: () => DriverSchemas };
const drivers = driverSchemas();

parentPort!.postMessage({ ready: true });
parentPort!.on('message', (job: ParseJob) => {
  answers.postMessage(readSpecText(job.text, job.file, drivers, job.limits));
});
