const CSV_HEADER = /^[^,\s`][^,]*(,[^,]*[^,\s])+$/;
const HEADING = /^\s*(#|\*\*)/;

/**
 * The columns of the submission file as a Kaggle-style description shows them: the first CSV header
 * in a code block (fenced or indented) after a "Submission File" / "Submission Format" line.
 */
export function submissionColumns(description: string): string[] | undefined {
  const lines = description.split(/\r?\n/);
  const mentions = lines.flatMap((line, i) => (/submission\s+(file|format)/i.test(line) ? [i] : []));
  // headings first: the words also turn up in FAQs and prose
  const ordered = [
    ...mentions.filter((i) => HEADING.test(lines[i]!)),
    ...mentions.filter((i) => !HEADING.test(lines[i]!)),
  ];
  for (const start of ordered) {
    let fenced = false;
    for (const line of lines.slice(start + 1, start + 60)) {
      const text = line.trim();
      if (text.startsWith('```')) {
        if (fenced) break;
        fenced = true;
      } else if (fenced || (/^( {4}|\t)/.test(line) && CSV_HEADER.test(text))) {
        if (!text) continue;
        if (!CSV_HEADER.test(text)) break; // a code block, but not a CSV file: try the next mention
        return text.split(',').map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
      } else if (/^#{1,6}\s/.test(text)) {
        break;
      }
    }
  }
  return undefined;
}
