/**
 * The local test control plane: a real kube-apiserver, kube-scheduler and kube-controller-manager (v1.20.2, built
 * in one `make` from Debian bookworm's `kubernetes` source package) and etcd (Debian's `etcd-server`), all on
 * loopback. No kubelet runs: the bridge is the only "kubelet" (its virtual node).
 *
 * - `install()` installs the Debian packages and builds the binaries once, caching them outside the repo.
 * - `startShared()` / `stopShared()` / `sharedStatus()` manage the detached control plane that `npm test` uses:
 *   apiserver, scheduler and controller-manager with every controller a real cluster runs (leader election off).
 * - `startControlPlane()` starts a private one (own directory, own ports) for tests that kill and restart the
 *   apiserver or need shortened node-lifecycle timeouts; scheduler and controller-manager only when asked
 *   (`controllers: true`); a watchdog process kills it if the test process dies without calling `stop()`.
 *
 * Over 400 lines on purpose: the build, the component flags and the shared/private lifecycles share the layout and
 * the process helpers, and one file keeps them in step.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { stringify } from 'yaml';
import { installKubectl, kubeletClientArgs, writeKubeletClientCerts } from './kubelet.js';

export const KUBE_VERSION = 'v1.20.2';
export const DEBIAN_SOURCE_PACKAGE = 'kubernetes';
export const DEBIAN_SOURCE_VERSION = '1.20.5+really1.20.2-1.1+deb12u1';
const ORIG_TARBALL = 'kubernetes_1.20.5+really1.20.2.orig.tar.gz';
const ORIG_SHA256 = 'b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc';
const APT_PACKAGES = [
  'golang-go',
  'rsync',
  'jq',
  'make',
  'patch',
  'openssl',
  'etcd-server',
  'golang-github-modern-go-reflect2-dev',
  'xz-utils',
  'ca-certificates',
  // the network-namespace data-path test (test/integration/networking): kube-proxy's iptables and conntrack
  'iptables',
  'conntrack',
];
const REFLECT2_SRC = '/usr/share/gocode/src/github.com/modern-go/reflect2';
const ETCD_BIN = '/usr/bin/etcd';

export type Log = (line: string) => void;

export class TestenvError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestenvError';
  }
}

// ---------------------------------------------------------------- paths

export function cacheDir(): string {
  return process.env.ECI_BRIDGE_CACHE_DIR ?? join(homedir(), '.cache', 'eci-bridge');
}
/** Every binary the one `make` of the Debian tree builds; the cache is complete only when all of them are there. */
export const KUBE_BINARIES = ['kube-apiserver', 'kube-scheduler', 'kube-controller-manager', 'kube-proxy'] as const;
export type KubeBinary = (typeof KUBE_BINARIES)[number];

export function kubeBinary(name: KubeBinary): string {
  if (name === 'kube-apiserver' && process.env.KUBE_APISERVER_BIN) return process.env.KUBE_APISERVER_BIN;
  return join(cacheDir(), `${name}-${KUBE_VERSION}`);
}
export function apiserverBinary(): string {
  return kubeBinary('kube-apiserver');
}
/** True when every binary of the control plane is built and cached. */
export function binariesBuilt(): boolean {
  return KUBE_BINARIES.every((b) => isExecutable(kubeBinary(b)));
}
/**
 * The shared plane's directory. `run-full` (not the apiserver-only plane's `run`): a plane with scheduler and
 * controller-manager is a different cluster, and an older checkout's apiserver-only plane, still held by its test
 * runs, is never restarted or joined by this one.
 */
export function sharedRunDir(): string {
  return join(cacheDir(), 'testenv', `run-${SHARED_FLAVOUR}`);
}
const SHARED_FLAVOUR = 'full';
export function sharedKubeconfigPath(): string {
  return join(sharedRunDir(), 'kubeconfig');
}
function buildLogPath(): string {
  return join(cacheDir(), `build-kubernetes-${KUBE_VERSION}.log`);
}

// ---------------------------------------------------------------- small helpers

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new TestenvError(`${cmd} could not be run: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new TestenvError(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${out}`);
  }
  return r.stdout;
}

function isExecutable(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() && (st.mode & 0o111) !== 0 && st.size > 0;
  } catch {
    return false;
  }
}

function elapsed(since: number): string {
  const s = Math.round((Date.now() - since) / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

function tail(path: string, lines = 40): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function sha256File(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}

/** Runs privileged commands directly as root, else through sudo when present. */
function privileged(cmd: string, args: string[], env?: NodeJS.ProcessEnv): string {
  if (process.getuid?.() === 0) return run(cmd, args, { env });
  if (spawnSync('sudo', ['-n', 'true']).status === 0) return run('sudo', ['-E', cmd, ...args], { env });
  throw new TestenvError(`installing Debian packages needs root: run as root, or with password-less sudo`);
}

// ---------------------------------------------------------------- install

function missingPackages(): string[] {
  return APT_PACKAGES.filter((p) => {
    const r = spawnSync('dpkg-query', ['-W', `-f=\${Status}`, p], { encoding: 'utf8' });
    return r.status !== 0 || !r.stdout.includes('install ok installed');
  });
}

export function installPackages(log: Log): void {
  if (!existsSync('/usr/bin/apt-get')) throw new TestenvError('apt-get not found: the test control plane needs Debian');
  const missing = missingPackages();
  if (missing.length === 0) {
    log('testenv: Debian packages present');
    return;
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`testenv: apt-get update; installing ${missing.join(' ')}`);
  privileged('apt-get', ['update', '-q'], env);
  privileged('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], env);
}

/** deb822 or one-line apt sources → the same repositories as deb-src, for a private apt state directory. */
export function debSrcSources(): { file: string; content: string } {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(deb822)) {
    const content = readFileSync(deb822, 'utf8').replace(/^Types:.*$/gm, 'Types: deb-src');
    return { file: 'debian-src.sources', content };
  }
  const lines: string[] = [];
  for (const f of ['/etc/apt/sources.list']) {
    if (!existsSync(f)) continue;
    for (const l of readFileSync(f, 'utf8').split('\n')) {
      if (/^\s*deb\s/.test(l)) lines.push(l.replace(/^\s*deb\s/, 'deb-src '));
    }
  }
  if (lines.length === 0) throw new TestenvError('no Debian apt sources found to derive deb-src entries from');
  return { file: 'debian-src.list', content: `${lines.join('\n')}\n` };
}

function walkFiles(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walkFiles(p, out);
    else out.push(p);
  }
  return out;
}

/**
 * Ensures the Debian packages and the kube-apiserver binary exist. The first run builds the binary from source
 * (≈ 6.5 min on 2 cores, ≈ 3 GB scratch deleted afterwards); later runs take seconds.
 */
export async function install(log: Log = console.log): Promise<string> {
  const bin = apiserverBinary();
  installPackages(log);
  installKubectl(cacheDir(), log);
  if (binariesBuilt()) {
    log(`testenv: ${KUBE_BINARIES.join(', ')} ${KUBE_VERSION} cached in ${cacheDir()}`);
    return bin;
  }
  // An older cache may hold only the apiserver: the whole set is rebuilt in one make (a separate build of the
  // missing binaries would compile the whole tree again anyway).
  await buildBinaries(log);
  return bin;
}

async function buildBinaries(log: Log): Promise<void> {
  const t0 = Date.now();
  mkdirSync(cacheDir(), { recursive: true });
  const scratch = mkdtempSync(join(process.env.ECI_BRIDGE_BUILD_DIR ?? tmpdir(), 'eci-bridge-kube-build-'));
  const logFile = buildLogPath();
  log(`testenv: building ${KUBE_BINARIES.join(', ')} ${KUBE_VERSION} from Debian source (takes 8-15 minutes, once)`);
  log(`testenv: scratch ${scratch}; build log ${logFile}`);
  try {
    // 1. deb-src entries in a private apt state directory: the system's apt configuration stays untouched.
    const apt = join(scratch, 'apt');
    for (const d of ['sources', 'lists/partial', 'cache/archives/partial']) mkdirSync(join(apt, d), { recursive: true });
    const src = debSrcSources();
    writeFileSync(join(apt, 'sources', src.file), src.content);
    const aptOpts = [
      '-o',
      'Dir::Etc::SourceList=/dev/null',
      '-o',
      `Dir::Etc::SourceParts=${join(apt, 'sources')}`,
      '-o',
      `Dir::State::Lists=${join(apt, 'lists')}`,
      '-o',
      `Dir::Cache=${join(apt, 'cache')}`,
      '-o',
      'APT::Sandbox::User=root',
      '-o',
      'Debug::NoLocking=1',
    ];
    log(`testenv: [${elapsed(t0)}] fetching source package ${DEBIAN_SOURCE_PACKAGE}=${DEBIAN_SOURCE_VERSION}`);
    run('apt-get', [...aptOpts, '-q', 'update']);
    const dl = join(scratch, 'download');
    mkdirSync(dl);
    run('apt-get', [...aptOpts, '-q', 'source', '--download-only', `${DEBIAN_SOURCE_PACKAGE}=${DEBIAN_SOURCE_VERSION}`], {
      cwd: dl,
    });
    const orig = join(dl, ORIG_TARBALL);
    const sum = await sha256File(orig);
    if (sum !== ORIG_SHA256) throw new TestenvError(`${ORIG_TARBALL}: sha256 ${sum}, expected ${ORIG_SHA256}`);

    // 2. Unpack, apply Debian's patches, replace the vendored reflect2 (v1.0.1 panics under Go >= 1.18).
    log(`testenv: [${elapsed(t0)}] unpacking and patching`);
    const tree = join(scratch, 'tree');
    mkdirSync(tree);
    run('tar', ['-xzf', orig, '-C', tree, '--strip-components=1']);
    const debianTar = readdirSync(dl).find((f) => f.endsWith('.debian.tar.xz'));
    if (!debianTar) throw new TestenvError('the source package has no .debian.tar.xz');
    run('tar', ['-xJf', join(dl, debianTar), '-C', tree]);
    const series = join(tree, 'debian', 'patches', 'series');
    const patches = existsSync(series)
      ? readFileSync(series, 'utf8')
          .split('\n')
          .map((l) => l.replace(/#.*/, '').trim())
          .filter(Boolean)
      : [];
    for (const p of patches) run('patch', ['-p1', '-N', '-s', '-i', join(tree, 'debian', 'patches', p)], { cwd: tree });
    log(`testenv: [${elapsed(t0)}] applied ${patches.length} Debian patches; reflect2 -> 1.0.2`);
    const vendored = join(tree, 'vendor', 'github.com', 'modern-go', 'reflect2');
    rmSync(vendored, { recursive: true, force: true });
    mkdirSync(vendored, { recursive: true });
    for (const f of readdirSync(REFLECT2_SRC)) {
      if (f.endsWith('.go') || f.endsWith('.s')) copyFileSync(join(REFLECT2_SRC, f), join(vendored, f));
    }

    // 3. The repository's own make, in GOPATH mode as debian/rules does.
    const gopath = join(tree, '.go');
    mkdirSync(join(gopath, 'src', 'k8s.io'), { recursive: true });
    run('ln', ['-s', '../../..', join(gopath, 'src', 'k8s.io', 'kubernetes')]);
    const env: NodeJS.ProcessEnv = {
      PATH: `/usr/lib/go/bin:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: join(scratch, 'home'),
      GOPATH: gopath,
      GOCACHE: join(scratch, 'gocache'),
      GO111MODULE: 'off',
      GOPROXY: 'off',
      GOFLAGS: '',
      CGO_ENABLED: '0',
      KUBE_GIT_VERSION: KUBE_VERSION,
      KUBE_GIT_TREE_STATE: 'clean',
      TMPDIR: scratch,
    };
    mkdirSync(env.HOME as string, { recursive: true });
    const what = KUBE_BINARIES.map((b) => `cmd/${b}`).join(' ');
    log(`testenv: [${elapsed(t0)}] make WHAT="${what}" (output in ${logFile})`);
    const code = await runLogged('make', [`WHAT=${what}`], {
      cwd: join(gopath, 'src', 'k8s.io', 'kubernetes'),
      env,
      logFile,
      onTick: (lastLine) => log(`testenv: [${elapsed(t0)}] building… ${lastLine}`),
    });
    if (code !== 0) {
      throw new TestenvError(`make failed (exit ${code}); last lines of ${logFile}:\n${tail(logFile)}`);
    }
    const outputs = walkFiles(join(tree, '_output'));
    for (const name of KUBE_BINARIES) {
      const built = outputs.find((f) => f.endsWith(`/${name}`) && isExecutable(f));
      if (!built) throw new TestenvError(`make succeeded but no ${name} binary under _output; see ${logFile}`);
      const bin = kubeBinary(name);
      const tmp = `${bin}.tmp-${process.pid}`;
      copyFileSync(built, tmp);
      spawnSync('chmod', ['755', tmp]);
      renameSync(tmp, bin);
      log(`testenv: [${elapsed(t0)}] built ${bin}`);
    }
  } finally {
    log('testenv: removing build scratch');
    rmSync(scratch, { recursive: true, force: true });
  }
}

function runLogged(
  cmd: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; logFile: string; onTick: (lastLine: string) => void },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const fd = openSync(opts.logFile, 'w');
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    const timer = setInterval(() => {
      const last =
        tail(opts.logFile, 30)
          .split('\n')
          .reverse()
          .find((l) => l.trim() !== '' && !l.startsWith('+++')) ?? '';
      opts.onTick(last.trim().slice(0, 100));
    }, 30_000);
    child.on('error', (e) => {
      clearInterval(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve(code ?? 1);
    });
  });
}

// ---------------------------------------------------------------- start / stop

export interface ControlPlaneState {
  dir: string;
  server: string;
  token: string;
  caPem: string;
  kubeconfigPath: string;
  etcdPid: number;
  apiserverPid: number;
  etcdPort: number;
  apiserverPort: number;
  /** set when the plane runs the scheduler and controller-manager */
  schedulerPid?: number;
  controllerManagerPid?: number;
  startedAt: string;
}

export interface ControlPlane {
  readonly dir: string;
  readonly kubeconfigPath: string;
  readonly server: string;
  readonly token: string;
  readonly caPem: string;
  /** SIGKILL the apiserver (etcd keeps running). */
  killApiserver(): Promise<void>;
  /** Start the apiserver again on the same port against the same etcd; resolves when /readyz is ok. */
  startApiserver(): Promise<void>;
  /** Whether kube-scheduler and kube-controller-manager run (they outlive an apiserver restart and reconnect). */
  readonly controllers: boolean;
  /** Kill everything and remove the directory. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return true;
  }
}

/** SIGTERM, then SIGKILL if the process has not exited within `graceMs`. */
export async function killProcess(pid: number | undefined, graceMs = 3000): Promise<void> {
  if (!pid || !isAlive(pid)) return;
  try {
    process.kill(pid, graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await delay(50);
  if (isAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    const hard = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < hard) await delay(20);
  }
}

function httpsGet(url: string, token: string, caPem?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        headers: { Authorization: `Bearer ${token}` },
        ca: caPem,
        rejectUnauthorized: caPem !== undefined,
        timeout: 2000,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

function httpGet(url: string): Promise<number> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 0,
  );
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; alive: () => boolean; logFile: string },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (await check()) return;
    if (!opts.alive()) throw new TestenvError(`${what} exited during start-up; last lines of ${opts.logFile}:\n${tail(opts.logFile)}`);
    if (Date.now() > deadline) throw new TestenvError(`${what} not ready after ${opts.timeoutMs} ms; see ${opts.logFile}`);
    await delay(150);
  }
}

interface Layout {
  dir: string;
  etcdData: string;
  certDir: string;
  tokenFile: string;
  saKey: string;
  saPub: string;
  kubeconfig: string;
  etcdLog: string;
  apiserverLog: string;
  /** the cluster CA (client certificates, the CSR signer of the controller-manager) */
  clusterCaCrt: string;
  clusterCaKey: string;
  schedulerLog: string;
  controllerManagerLog: string;
}

function layout(dir: string): Layout {
  return {
    dir,
    etcdData: join(dir, 'etcd'),
    certDir: join(dir, 'certs'),
    tokenFile: join(dir, 'tokens.csv'),
    saKey: join(dir, 'sa.key'),
    saPub: join(dir, 'sa.pub'),
    kubeconfig: join(dir, 'kubeconfig'),
    etcdLog: join(dir, 'etcd.log'),
    apiserverLog: join(dir, 'kube-apiserver.log'),
    clusterCaCrt: join(dir, 'ca.crt'),
    clusterCaKey: join(dir, 'ca.key'),
    schedulerLog: join(dir, 'kube-scheduler.log'),
    controllerManagerLog: join(dir, 'kube-controller-manager.log'),
  };
}

function prepareFiles(l: Layout): string {
  mkdirSync(l.certDir, { recursive: true, mode: 0o700 });
  const token = randomBytes(24).toString('hex');
  writeFileSync(l.tokenFile, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(l.saKey, privateKey, { mode: 0o600 });
  writeFileSync(l.saPub, publicKey);
  // The cluster CA: the apiserver trusts client certificates it signs, the controller-manager's CSR signer
  // (kubernetes.io/kube-apiserver-client, kubelet-serving, ...) signs with it.
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=eci-bridge-testenv-ca',
    '-keyout',
    l.clusterCaKey,
    '-out',
    l.clusterCaCrt,
  ]);
  writeKubeletClientCerts(l.certDir);
  return token;
}

function etcdArgs(l: Layout, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name=testenv',
    `--data-dir=${l.etcdData}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=testenv=${peer}`,
    '--logger=zap',
    '--log-level=warn',
    '--unsafe-no-fsync',
  ];
}

/**
 * What a control plane runs besides etcd and the apiserver, and flags added to each component (a helper that
 * needs more, e.g. the apiserver's kubelet client certificate, adds them here rather than editing the lists).
 */
export interface PlaneOptions {
  /** Run kube-scheduler and kube-controller-manager (default: true for the shared plane, false for private ones). */
  controllers?: boolean;
  /** Extra kube-apiserver flags (a later `--flag=` wins over the default). */
  apiserverArgs?: readonly string[];
  /** Extra kube-controller-manager flags, e.g. shortened node-lifecycle timeouts for a test that waits for them. */
  controllerManagerArgs?: readonly string[];
  /** Extra kube-scheduler flags. */
  schedulerArgs?: readonly string[];
}

/** `defaults` with every `--name=` of `extra` replacing the default of the same name (others appended). */
export function mergeFlags(defaults: readonly string[], extra: readonly string[] = []): string[] {
  const name = (f: string) => f.split('=')[0] ?? f;
  const overridden = new Set(extra.map(name));
  return [...defaults.filter((f) => !overridden.has(name(f))), ...extra];
}

function apiserverArgs(l: Layout, port: number, etcdPort: number, extra?: readonly string[]): string[] {
  return mergeFlags(apiserverDefaultArgs(l, port, etcdPort), extra);
}

function apiserverDefaultArgs(l: Layout, port: number, etcdPort: number): string[] {
  return [
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--etcd-servers=http://127.0.0.1:${etcdPort}`,
    `--cert-dir=${l.certDir}`,
    `--token-auth-file=${l.tokenFile}`,
    '--authorization-mode=RBAC',
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${l.saPub}`,
    `--service-account-signing-key-file=${l.saKey}`,
    '--service-cluster-ip-range=10.96.0.0/16',
    '--enable-priority-and-fairness=false',
    '--endpoint-reconciler-type=none',
    '--feature-gates=BoundServiceAccountTokenVolume=true',
    '--allow-privileged=true',
    `--client-ca-file=${l.clusterCaCrt}`,
    ...kubeletClientArgs(l.certDir),
    '--v=1',
  ];
}

/**
 * kube-controller-manager as a real cluster runs it: every default controller (`*`: serviceaccount and its token
 * controller with the signing key, namespace, garbagecollector, replicaset, deployment, job, cronjob,
 * nodelifecycle, podgc, csrsigning with the cluster CA, endpoint, endpointslice, root-ca-cert-publisher, ...),
 * leader election off, plain HTTP health on loopback only. Node-lifecycle timings are Kubernetes' defaults
 * (grace 40 s, taint-based eviction after the pods' 300 s toleration); a test that waits for them uses a private
 * plane with shorter ones.
 */
function controllerManagerArgs(l: Layout, healthPort: number, extra?: readonly string[]): string[] {
  return mergeFlags(
    [
      `--kubeconfig=${l.kubeconfig}`,
      '--leader-elect=false',
      '--controllers=*',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--address=127.0.0.1',
      `--port=${healthPort}`,
      `--service-account-private-key-file=${l.saKey}`,
      `--root-ca-file=${join(l.certDir, 'apiserver.crt')}`,
      `--cluster-signing-cert-file=${l.clusterCaCrt}`,
      `--cluster-signing-key-file=${l.clusterCaKey}`,
      '--cluster-name=eci-bridge-testenv',
      '--use-service-account-credentials=false',
      '--v=1',
    ],
    extra,
  );
}

function schedulerArgs(l: Layout, healthPort: number, extra?: readonly string[]): string[] {
  return mergeFlags(
    [
      `--kubeconfig=${l.kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--address=127.0.0.1',
      `--port=${healthPort}`,
      '--v=1',
    ],
    extra,
  );
}

function spawnLogged(bin: string, args: string[], logFile: string, detached: boolean): ChildProcess {
  const fd = openSync(logFile, 'a');
  const child = spawn(bin, args, { stdio: ['ignore', fd, fd], detached });
  closeSync(fd);
  child.on('error', () => {
    /* surfaced by the readiness wait (the process is not alive) */
  });
  // Never keep the caller's event loop alive: stop() / the watchdog / `testenv stop` end these processes.
  child.unref();
  return child;
}

function writeKubeconfig(path: string, server: string, token: string, caPem: string): void {
  const cfg = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'eci-bridge-testenv', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [{ name: 'admin', user: { token } }],
    contexts: [{ name: 'eci-bridge-testenv', context: { cluster: 'eci-bridge-testenv', user: 'admin' } }],
    'current-context': 'eci-bridge-testenv',
  };
  writeFileSync(path, stringify(cfg), { mode: 0o600 });
}

/** Starts etcd, the apiserver (waits for /readyz), then the scheduler and controller-manager when asked. */
async function launch(
  l: Layout,
  detached: boolean,
  opts: PlaneOptions,
): Promise<{ state: ControlPlaneState; etcd: ChildProcess; apiserver: ChildProcess; others: ChildProcess[] }> {
  const bin = apiserverBinary();
  if (!isExecutable(bin)) throw new TestenvError(`kube-apiserver not found at ${bin}: run 'npm run testenv -- install'`);
  if (!isExecutable(ETCD_BIN)) throw new TestenvError(`etcd not found at ${ETCD_BIN}: run 'npm run testenv -- install'`);
  const controllers = opts.controllers ?? false;
  if (controllers && !binariesBuilt()) {
    throw new TestenvError(`kube-scheduler / kube-controller-manager not built: run 'npm run testenv -- install'`);
  }
  const token = prepareFiles(l);
  const { etcdPort, peerPort, apiserverPort, schedulerPort, controllerManagerPort } = await pickPorts();
  const etcd = spawnLogged(ETCD_BIN, etcdArgs(l, etcdPort, peerPort), l.etcdLog, detached);
  let apiserver: ChildProcess | undefined;
  const others: ChildProcess[] = [];
  try {
    await waitFor('etcd', async () => (await httpGet(`http://127.0.0.1:${etcdPort}/health`)) === 200, {
      timeoutMs: 30_000,
      alive: () => isAlive(etcd.pid),
      logFile: l.etcdLog,
    });
    apiserver = spawnLogged(bin, apiserverArgs(l, apiserverPort, etcdPort, opts.apiserverArgs), l.apiserverLog, detached);
    const proc = apiserver;
    const server = `https://127.0.0.1:${apiserverPort}`;
    await waitForApiserver(server, token, l, () => isAlive(proc.pid));
    const caPem = readFileSync(join(l.certDir, 'apiserver.crt'), 'utf8');
    writeKubeconfig(l.kubeconfig, server, token, caPem);
    const state: ControlPlaneState = {
      dir: l.dir,
      server,
      token,
      caPem,
      kubeconfigPath: l.kubeconfig,
      etcdPid: etcd.pid ?? 0,
      apiserverPid: apiserver.pid ?? 0,
      etcdPort,
      apiserverPort,
      startedAt: new Date().toISOString(),
    };
    if (controllers) {
      const cm = spawnLogged(
        kubeBinary('kube-controller-manager'),
        controllerManagerArgs(l, controllerManagerPort, opts.controllerManagerArgs),
        l.controllerManagerLog,
        detached,
      );
      others.push(cm);
      const sched = spawnLogged(kubeBinary('kube-scheduler'), schedulerArgs(l, schedulerPort, opts.schedulerArgs), l.schedulerLog, detached);
      others.push(sched);
      state.controllerManagerPid = cm.pid ?? 0;
      state.schedulerPid = sched.pid ?? 0;
      await waitFor('kube-controller-manager', async () => (await httpGet(`http://127.0.0.1:${controllerManagerPort}/healthz`)) === 200, {
        timeoutMs: 60_000,
        alive: () => isAlive(cm.pid),
        logFile: l.controllerManagerLog,
      });
      await waitFor('kube-scheduler', async () => (await httpGet(`http://127.0.0.1:${schedulerPort}/healthz`)) === 200, {
        timeoutMs: 60_000,
        alive: () => isAlive(sched.pid),
        logFile: l.schedulerLog,
      });
      // The controllers are working once the serviceaccount controller has created `default` in `default`.
      await waitFor(
        'the default ServiceAccount (serviceaccount controller)',
        async () => {
          try {
            return (await httpsGet(`${server}/api/v1/namespaces/default/serviceaccounts/default`, token, caPem)).status === 200;
          } catch {
            return false;
          }
        },
        { timeoutMs: 60_000, alive: () => isAlive(cm.pid), logFile: l.controllerManagerLog },
      );
    }
    return { state, etcd, apiserver, others };
  } catch (err) {
    for (const o of others) await killProcess(o.pid, 0);
    await killProcess(apiserver?.pid, 0);
    await killProcess(etcd.pid, 0);
    throw err;
  }
}

async function pickPorts(): Promise<{
  etcdPort: number;
  peerPort: number;
  apiserverPort: number;
  schedulerPort: number;
  controllerManagerPort: number;
}> {
  const ports = new Set<number>();
  while (ports.size < 5) ports.add(await freePort());
  const [etcdPort = 0, peerPort = 0, apiserverPort = 0, schedulerPort = 0, controllerManagerPort = 0] = [...ports];
  return { etcdPort, peerPort, apiserverPort, schedulerPort, controllerManagerPort };
}

async function waitForApiserver(server: string, token: string, l: Layout, alive: () => boolean): Promise<void> {
  await waitFor(
    'kube-apiserver',
    async () => {
      try {
        const r = await httpsGet(`${server}/readyz`, token);
        return r.status === 200;
      } catch {
        return false;
      }
    },
    { timeoutMs: 90_000, alive, logFile: l.apiserverLog },
  );
}

// ---------------------------------------------------------------- the shared (detached) control plane

function statePath(): string {
  return join(sharedRunDir(), 'state.json');
}

export function readSharedState(): ControlPlaneState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(), 'utf8')) as ControlPlaneState;
  } catch {
    return undefined;
  }
}

export async function sharedStatus(): Promise<{ running: boolean; ready: boolean; state?: ControlPlaneState }> {
  const state = readSharedState();
  if (!state) return { running: false, ready: false };
  const running =
    isAlive(state.etcdPid) &&
    isAlive(state.apiserverPid) &&
    (state.schedulerPid === undefined || isAlive(state.schedulerPid)) &&
    (state.controllerManagerPid === undefined || isAlive(state.controllerManagerPid));
  let ready = false;
  if (running) {
    try {
      ready = (await httpsGet(`${state.server}/readyz`, state.token, state.caPem)).status === 200;
    } catch {
      ready = false;
    }
  }
  return { running, ready, state };
}

function holdersDir(): string {
  return join(cacheDir(), 'testenv', `holders-${SHARED_FLAVOUR}`);
}

/**
 * Who uses the shared control plane: a file per holder pid (a test run), or `manual` (started by hand: kept until
 * an explicit `stop`). Returns the live holders after pruning the dead.
 */
function liveHolders(): string[] {
  let names: string[];
  try {
    names = readdirSync(holdersDir());
  } catch {
    return [];
  }
  return names.filter((n) => {
    if (n === 'manual' || isAlive(Number(n))) return true;
    rmSync(join(holdersDir(), n), { force: true });
    return false;
  });
}

/** A cross-process lock (an O_EXCL file holding the owner's pid; a dead owner's lock is taken over). */
async function withLock<R>(name: string, fn: () => Promise<R>, timeoutMs = 20 * 60_000): Promise<R> {
  const dir = join(cacheDir(), 'testenv');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      let owner = 0;
      try {
        owner = Number(readFileSync(path, 'utf8'));
      } catch {
        continue;
      }
      if (!isAlive(owner)) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new TestenvError(`${path} is held by pid ${owner}`);
      await delay(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}

/**
 * Starts the shared control plane detached (a no-op when it is already running); builds the binary if missing.
 * `holder` (a pid) registers a user that `stopShared({ holder })` releases; without it the plane is pinned until
 * an explicit `stopShared()`.
 */
export async function startShared(log: Log = console.log, opts: { holder?: number } = {}): Promise<ControlPlaneState> {
  return withLock(`start-${SHARED_FLAVOUR}`, async () => {
    const state = await ensureShared(log);
    mkdirSync(holdersDir(), { recursive: true });
    writeFileSync(join(holdersDir(), opts.holder ? String(opts.holder) : 'manual'), '');
    return state;
  });
}

async function ensureShared(log: Log): Promise<ControlPlaneState> {
  const status = await sharedStatus();
  if (status.running && status.ready && status.state) {
    log(`testenv: already running at ${status.state.server}`);
    return status.state;
  }
  if (status.state) await stopProcesses(() => {});
  if (!binariesBuilt() || missingPackages().length > 0) {
    log('testenv: a control-plane binary or a Debian package is missing: installing first');
    await install(log);
  }
  const t0 = Date.now();
  const dir = sharedRunDir();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { state } = await launch(layout(dir), true, { controllers: true });
  writeFileSync(statePath(), JSON.stringify(state, null, 2), { mode: 0o600 });
  log(
    `testenv: kube-apiserver, kube-scheduler, kube-controller-manager ${KUBE_VERSION} ready at ${state.server} in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  log(`testenv: kubeconfig ${state.kubeconfigPath}`);
  return state;
}

/**
 * Stops the shared control plane. With `holder`, only releases that holder, and stops the plane only when no
 * other live holder (another test run, or a manual start) still uses it.
 */
export async function stopShared(log: Log = console.log, opts: { holder?: number } = {}): Promise<void> {
  await withLock(`start-${SHARED_FLAVOUR}`, async () => {
    if (opts.holder) {
      rmSync(join(holdersDir(), String(opts.holder)), { force: true });
      const others = liveHolders();
      if (others.length > 0) {
        log(`testenv: still in use (${others.join(', ')}); left running`);
        return;
      }
    }
    rmSync(holdersDir(), { recursive: true, force: true });
    await stopProcesses(log);
  });
}

async function stopProcesses(log: Log): Promise<void> {
  const state = readSharedState();
  if (state) {
    await killProcess(state.schedulerPid);
    await killProcess(state.controllerManagerPid);
    await killProcess(state.apiserverPid);
    await killProcess(state.etcdPid);
    log(`testenv: stopped (apiserver pid ${state.apiserverPid}, etcd pid ${state.etcdPid})`);
  } else {
    log('testenv: not running');
  }
  rmSync(sharedRunDir(), { recursive: true, force: true });
}

// ---------------------------------------------------------------- private control planes (for tests)

/**
 * A watchdog child: it reads its stdin, which is a pipe from this process. When this process exits (however it
 * exits, even SIGKILL) the pipe closes, and the watchdog SIGKILLs every pid listed in `dir/*.pid` and removes `dir`.
 */
function spawnWatchdog(dir: string): ChildProcess {
  const script = 'read _ignored; for f in "$0"/*.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done; rm -rf "$0"';
  const child = spawn('/bin/sh', ['-c', script, dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.unref();
  // The pipe must not keep this process's event loop alive.
  const stdin = child.stdin as (NodeJS.WritableStream & { unref?: () => void; _handle?: { unref(): void } }) | null;
  stdin?._handle?.unref();
  return child;
}

/**
 * Starts a private control plane (own directory, own ports). Nothing is left running after `stop()`, nor when
 * the calling process exits without calling it.
 */
export async function startControlPlane(opts: PlaneOptions & { log?: Log } = {}): Promise<ControlPlane> {
  const log = opts.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'eci-bridge-cp-'));
  const l = layout(dir);
  const watchdog = spawnWatchdog(dir);
  const pidFile = (name: string, pid: number | undefined) => writeFileSync(join(dir, `${name}.pid`), String(pid ?? ''));
  let launched: Awaited<ReturnType<typeof launch>>;
  try {
    launched = await launch(l, false, opts);
  } catch (err) {
    watchdog.stdin?.end();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const { state } = launched;
  let etcdPid = launched.etcd.pid;
  let apiserverPid = launched.apiserver.pid;
  pidFile('etcd', etcdPid);
  pidFile('apiserver', apiserverPid);
  const others = launched.others.map((c) => c.pid);
  for (const [i, pid] of others.entries()) pidFile(`component-${i}`, pid);
  log(`private control plane at ${state.server}`);
  let stopped = false;

  return {
    dir,
    kubeconfigPath: state.kubeconfigPath,
    server: state.server,
    token: state.token,
    caPem: state.caPem,
    controllers: others.length > 0,
    async killApiserver() {
      await killProcess(apiserverPid, 0);
      apiserverPid = undefined;
      pidFile('apiserver', undefined);
    },
    async startApiserver() {
      if (stopped) throw new TestenvError('control plane stopped');
      if (isAlive(apiserverPid)) return;
      const child = spawnLogged(
        apiserverBinary(),
        apiserverArgs(l, state.apiserverPort, state.etcdPort, opts.apiserverArgs),
        l.apiserverLog,
        false,
      );
      apiserverPid = child.pid;
      pidFile('apiserver', apiserverPid);
      await waitForApiserver(state.server, state.token, l, () => isAlive(child.pid));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const pid of others) await killProcess(pid, 500);
      await killProcess(apiserverPid, 500);
      await killProcess(etcdPid, 2000);
      apiserverPid = undefined;
      etcdPid = undefined;
      for (const f of readdirSync(dir)) if (f.endsWith('.pid')) rmSync(join(dir, f), { force: true });
      watchdog.stdin?.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resident set size in MB of a pid (from /proc), for reports. */
export function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Math.round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}
