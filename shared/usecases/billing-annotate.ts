/** The billing use-case's pod annotations (billing.ts): each pod's billed size and its cost so far. */
import { ANNOTATION_BILLED_SIZE, ANNOTATION_COST, type BillingItem, costOf, describeSize, formatMoney, instanceRate, overlapMs } from '../domain/billing.js';
import type { Pod } from '../domain/k8s.js';
import type { PriceTable } from '../domain/prices.js';
import type { Cluster, Logger } from '../ports/index.js';
import { describeError, isNotFound } from './errors.js';

/** Annotates each pod with its billed size and its cost so far (whole window up to `now`); only when changed. */
export async function annotatePods(
  ports: { cluster: Pick<Cluster, 'patchPodMetadata'>; logger: Logger },
  table: PriceTable,
  pods: readonly Pod[],
  items: readonly BillingItem[],
  now: number,
): Promise<number> {
  const byUid = new Map(items.map((i) => [i.uid, i]));
  let n = 0;
  for (const pod of pods) {
    const item = pod.metadata.uid ? byUid.get(pod.metadata.uid) : undefined;
    if (!item) continue;
    const rate = instanceRate(item.size, table, item.spot);
    const ms = overlapMs(item.window, { start: item.window.start, end: now }, now);
    const size = describeSize(item.size) + (item.spot ? ' (spot)' : '');
    const cost = rate.ok ? `${formatMoney(costOf(rate.picoPerHour, ms), 6)} ${table.currency}` : 'unpriced';
    const ann = pod.metadata.annotations ?? {};
    if (ann[ANNOTATION_BILLED_SIZE] === size && ann[ANNOTATION_COST] === cost) continue;
    try {
      await ports.cluster.patchPodMetadata(pod.metadata.namespace ?? '', pod.metadata.name ?? '', {
        annotations: { [ANNOTATION_BILLED_SIZE]: size, [ANNOTATION_COST]: cost },
      });
      n++;
    } catch (err) {
      if (!isNotFound(err)) {
        ports.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: describeError(err) }, 'billing: annotate failed');
      }
    }
  }
  return n;
}
