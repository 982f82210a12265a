import { UsageError } from '../../core/errors.js';
import { PROVIDER_IDS, type ProviderId } from '../../parsers/contract.js';
import { configuredFetcher, type StepDeps } from '../steps.js';

export interface ConfiguredProvider {
  provider: ProviderId;
  account: string;
}

/**
 * The providers to run and their accounts. With an explicit list, each must be configured (a missing
 * variable is the `UsageError` that names it: exit status 2). Without one, every provider whose
 * variables are set; the others are skipped and listed in `skipped` with the reason.
 */
export function configuredProviders(
  deps: Pick<StepDeps, 'env' | 'fetcherFor'>,
  requested: readonly ProviderId[] = [],
): { providers: ConfiguredProvider[]; skipped: Array<{ provider: ProviderId; reason: string }> } {
  const providers: ConfiguredProvider[] = [];
  const skipped: Array<{ provider: ProviderId; reason: string }> = [];
  const list = requested.length > 0 ? [...new Set(requested)] : PROVIDER_IDS;
  for (const provider of list) {
    try {
      providers.push({ provider, account: configuredFetcher(deps, provider).account });
    } catch (err) {
      // Asked for by name: its missing variable is the error. Otherwise: not configured, skipped.
      if (requested.length > 0) throw err instanceof UsageError ? err : new UsageError(err instanceof Error ? err.message : String(err));
      skipped.push({ provider, reason: err instanceof Error ? err.message : String(err) });
    }
  }
  if (providers.length === 0) {
    throw new UsageError(`no provider is configured: set the variables of at least one (CONTRACT.md, "Provider credentials and endpoints")${skipped.length ? ` — ${skipped.map((s) => `${s.provider}: ${s.reason}`).join('; ')}` : ''}`);
  }
  return { providers, skipped };
}
