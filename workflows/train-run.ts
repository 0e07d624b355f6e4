import { TRAINING_DEFAULT_TIMEOUT_S, type TrainingResult, type TrainingSpec } from '../domain/training';
import { trainingActivities } from './activity-proxies';

/**
 * One long training run on the GPU (or CPU) queue: progress is the activity's heartbeat details,
 * a lost worker's run resumes from its last checkpoint, a cancel stops the container and keeps the
 * workspace.
 */
export async function trainRun(spec: TrainingSpec): Promise<TrainingResult> {
  const timeoutS = Number(spec.limits?.timeoutS) || TRAINING_DEFAULT_TIMEOUT_S;
  return trainingActivities(spec.gpu ? 'gpu' : 'cpu', timeoutS).runTraining(spec);
}
