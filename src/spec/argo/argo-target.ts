/**
 * The Rollout's pod template as a Sluice `process` target: the command given on the command line
 * runs each version instead of the container image; the image's tag is the version; replicas,
 * literal env and the readiness probe's path carry over.
 */
import { SpecError } from '../spec-error.ts';
import { isRaw, type Path, type Raw, type SourceMarks } from './argo-source.ts';
import type { ArgoImportOptions } from './import-report.ts';

const CONTAINERS: Path = ['spec', 'template', 'spec', 'containers'];
/** The process target's limit on instances per version. */
const MAX_INSTANCES = 64;

/** `registry/app:1.2.3` → `1.2.3`; none for an untagged or digest-only image. */
export function imageTag(image: string): string | undefined {
  const name = image.split('@')[0] ?? '';
  const colon = name.lastIndexOf(':');
  return colon > name.lastIndexOf('/') ? name.slice(colon + 1) : undefined;
}

export function importTarget(rollout: SourceMarks, options: ArgoImportOptions): { version: string; target: Raw } {
  const containers = rollout.peek<unknown[]>(CONTAINERS);
  const first: Raw = Array.isArray(containers) && isRaw(containers[0]) ? containers[0] : {};
  const at = (key: string | number, ...rest: (string | number)[]): Path => [...CONTAINERS, 0, key, ...rest];
  const target: Raw = { driver: 'process', command: options.targetCommand };

  const image = typeof first.image === 'string' ? first.image : undefined;
  const version = options.version ?? (image === undefined ? undefined : imageTag(image));
  if (version === undefined) {
    const where = rollout.doc.at(image === undefined ? ['spec', 'template'] : at('image'));
    const why = image === undefined ? 'the Rollout names no container image' : `image ${image} has no tag`;
    throw new SpecError([
      {
        file: rollout.doc.file,
        ...where,
        path: 'spec.template.spec.containers[0].image',
        message: `${why} to take the version from: give --version`,
      },
    ]);
  }
  if (image !== undefined) {
    rollout.use(at('image'));
    rollout.note(
      'changed',
      at('image'),
      `the image is not run: --target-command runs each version (${JSON.stringify(options.targetCommand.join(' '))}); version ${JSON.stringify(version)}${options.version === undefined ? " is the image's tag" : ' from --version'}`,
    );
  }
  rollout.use(at('name'));
  for (const key of ['command', 'args']) {
    if (first[key] !== undefined)
      rollout.note('dropped', at(key), `the container's ${key}: --target-command replaces it`);
  }
  if (Array.isArray(first.ports))
    rollout.note(
      'dropped',
      at('ports'),
      "Sluice chooses each instance's port and passes it as $PORT; the service listens at spec.router.listen",
    );

  const env: Record<string, string> = {};
  (Array.isArray(first.env) ? first.env : []).forEach((e: unknown, i) => {
    if (!isRaw(e) || typeof e.name !== 'string') return;
    if (e.value !== undefined && e.valueFrom === undefined) {
      rollout.use(at('env', i));
      env[e.name] = String(e.value).replaceAll('${', () => '$${');
    } else
      rollout.note(
        'dropped',
        at('env', i),
        `env ${e.name} from ${JSON.stringify(e.valueFrom)}: write its value, or read the secret in the command (Sluice stores no secrets)`,
      );
  });
  if (Object.keys(env).length > 0) target.env = env;

  const replicas = rollout.peek(['spec', 'replicas']);
  if (typeof replicas === 'number' && Number.isInteger(replicas) && replicas >= 1) {
    rollout.use(['spec', 'replicas']);
    target.instances = Math.min(replicas, MAX_INSTANCES);
    if (replicas > MAX_INSTANCES)
      rollout.note(
        'changed',
        ['spec', 'replicas'],
        `${replicas} replicas: the process target runs at most ${MAX_INSTANCES} instances per version`,
      );
  }

  const probe =
    isRaw(first.readinessProbe) && isRaw(first.readinessProbe.httpGet) ? first.readinessProbe.httpGet : undefined;
  if (probe !== undefined && typeof probe.path === 'string' && probe.path.startsWith('/')) {
    rollout.use(at('readinessProbe', 'httpGet', 'path'));
    target.readiness = { path: probe.path };
  } else {
    rollout.note(
      'added',
      first.readinessProbe !== undefined ? at('readinessProbe') : at('name'),
      'readiness: Sluice waits for GET /healthz on each instance to answer 2xx or 3xx before it takes traffic; set spec.target.readiness.path if the service answers elsewhere',
    );
  }
  if (Array.isArray(containers)) {
    containers
      .slice(1)
      .forEach((c, i) =>
        rollout.note(
          'dropped',
          [...CONTAINERS, i + 1],
          `container ${isRaw(c) ? String(c.name) : ''}: Sluice runs one command per instance (a sidecar is part of that command's job)`,
        ),
      );
  }
  return { version, target };
}
