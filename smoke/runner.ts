/** Entry of the isolated smoke runner process (forked by sandbox.ts): runs the engine on one model. */
import { serve } from './child';
import { runSmoke, type SmokeOptions } from './engine';

export type RunnerOptions = Omit<SmokeOptions, 'runtime' | 'signal'>;

serve<RunnerOptions>(options => runSmoke(options));
