#!/usr/bin/env bash
# Runs the test suite: unit tests always; integration tests against a real kube-apiserver (the local test
# control plane, started here and stopped on exit, or the cluster named by KUBE_TEST_KUBECONFIG).
# Test files are listed explicitly: Node 20 silently runs nothing on a glob or an empty list.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=all
[ "${1:-}" = "--unit" ] && mode=unit

mapfile -t unit < <(find test/unit -name '*.test.ts' | sort)
if [ ${#unit[@]} -eq 0 ]; then
  echo "test.sh: no unit test files found under test/unit" >&2
  exit 1
fi

integ=()
started=""
cleanup() {
  # Releases this run's hold; the plane stops only when no other run (or manual start) still uses it.
  if [ -n "$started" ]; then npx tsx scripts/testenv/cli.ts stop --holder $$ >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

if [ "$mode" = all ]; then
  mapfile -t integ < <(find test/integration -name '*.test.ts' 2>/dev/null | sort)
  if [ ${#integ[@]} -gt 0 ] && [ -z "${KUBE_TEST_KUBECONFIG:-}" ]; then
    if npx tsx scripts/testenv/cli.ts start --holder $$; then
      # At the end this run releases its hold; the plane is never pulled from under another user.
      started=1
      KUBE_TEST_KUBECONFIG="$(npx tsx scripts/testenv/cli.ts kubeconfig)"
      export KUBE_TEST_KUBECONFIG
    elif [ -n "${CI:-}" ]; then
      echo "test.sh: the local control plane could not be started, and CI must run the integration tests" >&2
      exit 1
    else
      echo "" >&2
      echo "##########################################################################" >&2
      echo "## KUBERNETES INTEGRATION TESTS SKIPPED: no kube-apiserver could be started." >&2
      echo "## Run 'npm run testenv -- install' or set KUBE_TEST_KUBECONFIG.          " >&2
      echo "##########################################################################" >&2
      echo "" >&2
      # Files that need Kubernetes skip themselves (test/helpers/kube.ts); emulator tests still run.
    fi
  fi
fi

# Not `exec`: the EXIT trap must run to release the control plane.
node --import tsx --test --test-reporter=spec "${unit[@]}" "${integ[@]}"
