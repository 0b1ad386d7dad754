/**
 * Holds the current eci-profile: read from the ConfigMap `<name>` (key `selectors`, YAML or JSON) in the
 * bridge namespace, re-read every few seconds (hot reload without a restart). A bad config is rejected with one
 * clear log line and the last good profile stays in force; a missing ConfigMap means "no selectors".
 */
import { parse as parseYaml } from 'yaml';
import { type Profile, parseProfile } from '../../shared/domain/profile.js';
import type { Cluster, Logger } from '../../shared/ports/index.js';

export const PROFILE_CONFIGMAP = 'eci-profile';

export class ProfileStore {
  #current: Profile = { selectors: [] };
  #version = '';
  #timer: NodeJS.Timeout | undefined;
  #rejected = 0;

  constructor(
    private readonly cluster: Pick<Cluster, 'getConfigMap'>,
    private readonly opts: { namespace: string; name?: string; intervalMs?: number; logger: Logger },
  ) {}

  current(): Profile {
    return this.#current;
  }

  /** how many configs were rejected since start (a metric) */
  rejected(): number {
    return this.#rejected;
  }

  /** Reads the ConfigMap once; resolves whether a new profile was applied. */
  async reload(): Promise<boolean> {
    const name = this.opts.name ?? PROFILE_CONFIGMAP;
    let data: Record<string, string> | undefined;
    let version: string;
    try {
      const cm = await this.cluster.getConfigMap(this.opts.namespace, name);
      data = cm.data;
      version = cm.metadata.resourceVersion ?? JSON.stringify(cm.data ?? {});
    } catch (err) {
      if ((err as Error).name === 'NotFoundError') {
        version = 'absent';
        data = undefined;
      } else {
        this.opts.logger.warn({ err: (err as Error).message }, 'eci-profile: could not read the ConfigMap; keeping the last good profile');
        return false;
      }
    }
    if (version === this.#version) return false;
    this.#version = version;
    const raw = data?.selectors;
    let value: unknown = [];
    if (raw !== undefined) {
      try {
        value = parseYaml(raw);
      } catch (err) {
        this.#rejected++;
        this.opts.logger.error({ configMap: name, err: (err as Error).message }, 'eci-profile rejected: selectors is not valid YAML/JSON; keeping the last good profile');
        return false;
      }
    }
    const res = parseProfile(value ?? []);
    if (!res.ok) {
      this.#rejected++;
      this.opts.logger.error({ configMap: name, error: res.error }, 'eci-profile rejected; keeping the last good profile');
      return false;
    }
    this.#current = res.profile;
    this.opts.logger.info({ configMap: name, selectors: res.profile.selectors.map((s) => s.name) }, 'eci-profile loaded');
    return true;
  }

  async start(): Promise<void> {
    await this.reload();
    const tick = (): void => {
      void this.reload().finally(() => {
        if (this.#timer) this.#timer = setTimeout(tick, this.opts.intervalMs ?? 5000);
      });
    };
    this.#timer = setTimeout(tick, this.opts.intervalMs ?? 5000);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
