#!/usr/bin/env bash
# Stop the daemons started by .ci/slurm/start-slurm.sh, by PID file only (no pkill/killall).
set -uo pipefail
SLURM_ROOT=${SLURM_ROOT:-/tmp/hetstack-slurm}
R=$SLURM_ROOT
stop() {  # $1 = pid file
  [ -s "$1" ] || return 0
  local pid; pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
stop "$R/run/slurmd.pid"
stop "$R/run/slurmctld.pid"
stop "$R/run/slurmdbd.pid"
stop "$R/db/run/mysqld.pid"
stop /run/munge/munged.pid
[ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$R/etc/slurm.conf" ] && rm -f /etc/slurm/slurm.conf
[ "$(readlink /etc/slurm/slurmdbd.conf 2>/dev/null)" = "$R/etc/slurmdbd.conf" ] && rm -f /etc/slurm/slurmdbd.conf
exit 0
