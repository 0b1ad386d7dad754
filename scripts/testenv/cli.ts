/**
 * `npm run testenv -- install|start|stop|status|kubeconfig` — the local test control plane (real kube-apiserver,
 * kube-scheduler and kube-controller-manager v1.20.2 + etcd on 127.0.0.1). See controlPlane.ts.
 */
import {
  apiserverBinary,
  install,
  KUBE_VERSION,
  rssMb,
  sharedKubeconfigPath,
  sharedStatus,
  startShared,
  stopShared,
} from './controlPlane.js';

const usage = `usage: npm run testenv -- <command>

  install     install Debian packages (etcd, Go, ...) and build kube-apiserver, kube-scheduler,
              kube-controller-manager and kube-proxy ${KUBE_VERSION} in one make (about 10 min, once), cached
              beside ${apiserverBinary()} (a cache holding only the apiserver is completed)
  start [--holder PID]
              start etcd, kube-apiserver, kube-scheduler and kube-controller-manager on 127.0.0.1, detached
              (installs first if needed; no-op when running);
              --holder registers a user (a test run) instead of pinning it until an explicit stop
  stop [--holder PID]
              stop both and remove their state; with --holder, only release that user, and stop when none is left
  status      print whether it runs, where, and its memory use
  kubeconfig  print the path of the kubeconfig (a system:masters token user)`;

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  const holderArg = argv.indexOf('--holder');
  const holder = holderArg >= 0 ? Number(argv[holderArg + 1]) : undefined;
  if (holder !== undefined && !(Number.isInteger(holder) && holder > 0)) {
    process.stderr.write('testenv: --holder needs a pid\n');
    return 2;
  }
  // Progress goes to stderr so that `kubeconfig` (and scripts capturing stdout) see only the answer.
  const log = (line: string) => process.stderr.write(`${line}\n`);
  switch (cmd) {
    case 'install':
      await install(log);
      return 0;
    case 'start':
      await startShared(log, { holder });
      return 0;
    case 'stop':
      await stopShared(log, { holder });
      return 0;
    case 'status': {
      const s = await sharedStatus();
      if (!s.state) {
        process.stdout.write('testenv: not running\n');
        return 1;
      }
      const st = s.state;
      const lines = [
        `testenv: ${s.running ? (s.ready ? 'running, ready' : 'running, NOT ready') : 'stale state (processes gone)'}`,
        `  server      ${st.server}`,
        `  kubeconfig  ${st.kubeconfigPath}`,
        `  apiserver   pid ${st.apiserverPid}, rss ${rssMb(st.apiserverPid) ?? '-'} MB`,
        `  etcd        pid ${st.etcdPid}, port ${st.etcdPort}, rss ${rssMb(st.etcdPid) ?? '-'} MB`,
        ...(st.schedulerPid ? [`  scheduler   pid ${st.schedulerPid}, rss ${rssMb(st.schedulerPid) ?? '-'} MB`] : []),
        ...(st.controllerManagerPid
          ? [`  controllers pid ${st.controllerManagerPid}, rss ${rssMb(st.controllerManagerPid) ?? '-'} MB`]
          : []),
        `  started     ${st.startedAt}`,
        `  state dir   ${st.dir}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      return s.running && s.ready ? 0 : 1;
    }
    case 'kubeconfig': {
      const s = await sharedStatus();
      if (!s.running) {
        log('testenv: not running (npm run testenv -- start)');
        return 1;
      }
      process.stdout.write(`${s.state?.kubeconfigPath ?? sharedKubeconfigPath()}\n`);
      return 0;
    }
    default:
      process.stderr.write(`${usage}\n`);
      return cmd === undefined || cmd === 'help' || cmd === '--help' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`testenv: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
