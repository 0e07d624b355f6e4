import type { Script } from './scripted-llm';

/** Python for iris-species at three levels of skill: nothing, the most frequent class, a decision tree. */
const CONSTANT = [
  'import pandas as pd',
  'train = pd.read_csv("/data/train.csv")',
  'test = pd.read_csv("/data/test.csv")',
  'label = train["species"].mode().iloc[0]',
  'pd.DataFrame({"id": test["id"], "species": label}).to_csv("/workspace/submission.csv", index=False)',
  '',
].join('\n');
const TREE = [
  'import pandas as pd',
  'from sklearn.tree import DecisionTreeClassifier',
  'train = pd.read_csv("/data/train.csv")',
  'test = pd.read_csv("/data/test.csv")',
  'features = ["petal_length", "petal_width"]',
  'model = DecisionTreeClassifier(max_depth=3, random_state=0).fit(train[features], train["species"])',
  'pd.DataFrame({"id": test["id"], "species": model.predict(test[features])}).to_csv("/workspace/submission.csv", index=False)',
  '',
].join('\n');

/**
 * A stand-in for checkpoint `level` of a model being trained on iris-species: 0 gives up at once,
 * 1 executes a constant prediction, 2 a decision tree; each stops after its execute_code.
 */
export function checkpointScript(level: 0 | 1 | 2): Script {
  return (request, index) => {
    const acted = request.messages.some((m) => m.role === 'assistant');
    if (acted || level === 0) return { content: 'Done.' };
    const code = level === 1 ? CONSTANT : TREE;
    return {
      toolCalls: [{ id: `c${index}`, name: 'execute_code', arguments: JSON.stringify({ code }) }],
      logprobs: { tokenIds: [level, index], logprobs: [-1 / (level + 1), -0.5] },
    };
  };
}
