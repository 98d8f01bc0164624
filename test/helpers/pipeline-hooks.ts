import { registerApp } from '../../support/ecs-setup';
import { startPipeline } from '../../support/pipeline';

/** The local pipeline a test file runs against (see support/pipeline.ts). */
export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/** The cluster of {@link withKudosApi}. */
export const KUDOS_CLUSTER = 'kudos';

/** A pipeline setup: creates the cluster `kudos` and registers the task definition `api` (nginx on 8080/tcp). */
export function withKudosApi(pipeline: Pipeline): Promise<void> {
  return registerApp(pipeline.ecs, 'api', { portMappings: [{ containerPort: 8080, protocol: 'tcp' }] }, KUDOS_CLUSTER);
}

/** The pipeline of this test file: started before its tests (then `setup` is run on it) and stopped after them. */
export function pipelineForTests(
  setup: (pipeline: Pipeline) => Promise<void> = async () => undefined,
  options: Parameters<typeof startPipeline>[0] = {},
): Pipeline {
  const pipeline = {} as Pipeline;
  beforeAll(async () => {
    Object.assign(pipeline, await startPipeline(options));
    await setup(pipeline);
  });
  afterAll(() => pipeline.stop());
  return pipeline;
}
