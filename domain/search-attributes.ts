/** Custom search attributes (all Keyword) that let a user find any Anvil run in the Temporal UI. */
export const SEARCH_ATTRIBUTES = ['AnvilDataset', 'AnvilTaskId', 'AnvilStage', 'AnvilVerdict'] as const;
