import { invalidParameter } from '../../aws-error';
import type { Input } from '../../wire';
import type { EcsContext } from '../context';
import { dedupeTags, readTags } from '../readers';

// TagResource, UntagResource, ListTagsForResource over clusters, services, tasks and task definitions.

export function tagResource(ctx: EcsContext, input: Input): Record<string, never> {
  const resource = ctx.state.taggable(input.resourceArn);
  resource.tags = dedupeTags([...resource.tags, ...readTags(input.tags)]);
  if (resource.tags.length > 50) throw invalidParameter('A resource can have at most 50 tags.');
  return {};
}

export function untagResource(ctx: EcsContext, input: Input): Record<string, never> {
  const resource = ctx.state.taggable(input.resourceArn);
  const keys = Array.isArray(input.tagKeys) ? input.tagKeys.map(String) : [];
  resource.tags = resource.tags.filter((tag) => !keys.includes(tag.key));
  return {};
}

export function listTagsForResource(ctx: EcsContext, input: Input): unknown {
  return { tags: [...ctx.state.taggable(input.resourceArn).tags] };
}
