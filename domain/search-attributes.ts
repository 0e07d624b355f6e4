import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (all Keyword) that let a user find any Anvil run in the Temporal UI. */
export const SEARCH = {
  dataset: defineSearchAttributeKey('AnvilDataset', SearchAttributeType.KEYWORD),
  taskId: defineSearchAttributeKey('AnvilTaskId', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('AnvilStage', SearchAttributeType.KEYWORD),
  verdict: defineSearchAttributeKey('AnvilVerdict', SearchAttributeType.KEYWORD),
};

/**
 * The memo field that records which API key started a workflow (sessions and rollouts; a rollout's
 * episodes open their sessions under it too). The gateway shows a workflow only to that key.
 */
export const OWNER_MEMO = 'anvilOwner';

export const SEARCH_ATTRIBUTES = Object.values(SEARCH).map((key) => key.name);
