import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (all Keyword) that let a user find any Anvil run in the Temporal UI. */
export const SEARCH = {
  dataset: defineSearchAttributeKey('AnvilDataset', SearchAttributeType.KEYWORD),
  taskId: defineSearchAttributeKey('AnvilTaskId', SearchAttributeType.KEYWORD),
  stage: defineSearchAttributeKey('AnvilStage', SearchAttributeType.KEYWORD),
  verdict: defineSearchAttributeKey('AnvilVerdict', SearchAttributeType.KEYWORD),
};

export const SEARCH_ATTRIBUTES = Object.values(SEARCH).map((key) => key.name);
