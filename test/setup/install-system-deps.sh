#!/usr/bin/env bash
# Installs the Debian packages the integration and e2e tests run for real: Prometheus (metrics
# provider) and etcd (for kube-apiserver). Skips, saying why, where it cannot install; the tests that
# need them then skip with their own message.
set -u
want=()
command -v prometheus >/dev/null 2>&1 || want+=(prometheus)
command -v etcd >/dev/null 2>&1 || want+=(etcd-server)
[ ${#want[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "test setup: ${want[*]} not installed and cannot apt-get here (needs root on Debian); tests needing them will skip" >&2
  exit 0
fi
echo "test setup: installing ${want[*]} (Debian packages) for the integration tests" >&2
export DEBIAN_FRONTEND=noninteractive
# The prometheus package would start a service on :9090 where an init system runs; tests start their own.
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null \
  || echo "test setup: apt-get install ${want[*]} failed; tests needing them will skip" >&2
exit 0
