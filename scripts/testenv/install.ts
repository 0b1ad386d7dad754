/**
 * Installing the test control plane: the Debian packages (etcd, Go, openssl, ...) and one build of kube-apiserver,
 * kube-scheduler, kube-controller-manager and kube-proxy from Debian bookworm's `kubernetes` source package (its
 * patches applied, the vendored reflect2 replaced), cached outside the repository. Runs once per machine.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installKubectl } from './kubelet.js';
import { binariesBuilt, buildLogPath, cacheDir, isExecutable, KUBE_BINARIES, KUBE_VERSION, kubeBinary, type Log, TestenvError, apiserverBinary } from './paths.js';
import { elapsed, run, runLogged, tail } from './proc.js';

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

export function missingPackages(): string[] {
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
