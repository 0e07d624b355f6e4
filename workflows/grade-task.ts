import type { GradeResult } from '../activities/grading';
import { verificationActivities } from './activity-proxies';

/** `anvil grade`: one submission file against a package's private answers, in a grading container. */
export async function gradeTask(input: { packageDir: string; submissionFile: string }): Promise<GradeResult> {
  return verificationActivities().gradeSubmission(input);
}
