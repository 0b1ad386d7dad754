/**
 * The composition root's part for the reconcile function and `cost --reconcile`: kept apart from compose.ts so
 * only what reconciles bundles the BSS SDK (@alicloud/bssopenapi20171214 and @alicloud/openapi-core); the other
 * function bundles never carry it.
 */
import { z } from 'zod';
import { createBssBillReader } from './adapters/bss/index.js';
import { type Bridge, billsOverride, ComposeError, cloudCredentials, connectBilling, hasStore } from './compose.js';
import { type BridgeModel, BridgeModelSchema, MEASURED_BRIDGE_MODEL } from './domain/bridge-cost.js';
import type { Config } from './domain/config.js';
import type { FcCredentials } from './sim/fc.js';
import type { BillReader, Logger } from './ports/index.js';
import { billingSettingsFromConfig } from './usecases/billing.js';
import { Reconcile, type ReconcileSettings } from './usecases/reconcile.js';

const reconciles = new WeakMap<Bridge, Reconcile>();

/** BILLING_BRIDGE_MODEL (JSON, fields left out keep the measured model), else the measured model. */
export function bridgeModelFromConfig(config: Config): BridgeModel {
  if (!config.BILLING_BRIDGE_MODEL) return MEASURED_BRIDGE_MODEL;
  let raw: unknown;
  try {
    raw = JSON.parse(config.BILLING_BRIDGE_MODEL);
  } catch (err) {
    throw new ComposeError('BILLING_BRIDGE_MODEL is not JSON', { cause: err });
  }
  const res = BridgeModelSchema.safeParse(raw);
  if (!res.success) throw new ComposeError(`BILLING_BRIDGE_MODEL is invalid:\n${z.prettifyError(res.error)}`);
  return res.data;
}

export function reconcileSettingsFromConfig(config: Config): ReconcileSettings {
  return {
    bridgeModel: bridgeModelFromConfig(config),
    clusterName: config.CLUSTER_NAME,
    vnodeName: config.VNODE_NAME,
    bridgeNamespace: config.BRIDGE_NAMESPACE,
    offsetHours: config.BILLING_DAY_UTC_OFFSET_HOURS,
    settleHours: config.BILLING_SETTLE_HOURS,
    billing: billingSettingsFromConfig(config),
  };
}

/** The BSS adapter from the configuration and the invocation's (or the environment's) credentials. */
export function billReaderFor(config: Config, logger: Logger, credentials?: FcCredentials): BillReader {
  const creds = cloudCredentials(config, credentials);
  if (!creds) throw new ComposeError('no cloud credentials for the bill (FC context or ALIBABA_CLOUD_ACCESS_KEY_*)');
  return createBssBillReader(config, creds, { logger: logger.child({ adapter: 'bss' }) });
}

/**
 * The reconcile use-case of a bridge (memoised per bridge, i.e. per credential set): the bill through BSS (or
 * `overrides.bills`), ECI and the cluster as billing reads them.
 */
export function reconcileOf(bridge: Bridge, credentials?: FcCredentials): Reconcile {
  let r = reconciles.get(bridge);
  if (!r) {
    const cluster = bridge.cluster;
    if (!hasStore(cluster)) throw new ComposeError('reconcile needs a cluster that can store ConfigMaps (ClusterStore)');
    const bills = billsOverride(bridge) ?? billReaderFor(bridge.config, bridge.logger, credentials);
    r = new Reconcile(
      { cluster, groups: bridge.eci, bills, clock: bridge.clock, logger: bridge.logger.child({ usecase: 'reconcile' }) },
      reconcileSettingsFromConfig(bridge.config),
    );
    reconciles.set(bridge, r);
  }
  return r;
}

/** What `eci-bridge cost --reconcile` reads: connectBilling's cluster and ECI, plus the bill. */
export async function connectReconcile(config: Config): Promise<Awaited<ReturnType<typeof connectBilling>> & { bills: BillReader }> {
  const deps = await connectBilling(config);
  return { ...deps, bills: billReaderFor(config, deps.logger) };
}
