/** What the composition root hands every module's route plugin. */
import type { WriteRunner } from './write.js';

export interface HttpKit {
  write: WriteRunner;
}
