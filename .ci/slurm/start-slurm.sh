#!/usr/bin/env bash
# Idempotent bring-up of a single-node Slurm cluster on localhost (Debian 12, root, no systemd),
# for CI (.ci/run) and for trying profiles/slurm locally; tests/test_slurm.py runs against it.
#   SLURM_ROOT  : where config/state/logs/pids go (default /tmp/hetstack-slurm)
#   SLURM_MIN_JOB_AGE : seconds finished jobs stay visible to squeue/scontrol (default 3600;
#                 without accounting that is the only record; keep it >= 3 x the profile's
#                 slurm-init-seconds-before-status-checks or the plugin falls back to sacct)
#   SLURM_DBD=1 : also start MariaDB + slurmdbd so that `sacct` works (default 0: accounting off,
#                 use `slurm-status-command: squeue` in the Snakemake profile)
# /etc/slurm/slurm.conf is made a symlink to $SLURM_ROOT/etc/slurm.conf: the config MUST be at the
# compiled-in default path, because snakemake-executor-plugin-slurm-jobstep strips every SLURM_*
# variable (SLURM_CONF included) before its nested `srun` inside the batch job.
set -euo pipefail
SLURM_ROOT=${SLURM_ROOT:-/tmp/hetstack-slurm}
SLURM_DBD=${SLURM_DBD:-0}
SLURM_MIN_JOB_AGE=${SLURM_MIN_JOB_AGE:-3600}
R=$SLURM_ROOT

alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- packages -------------------------------------------------------------------------------
pkgs="slurmctld slurmd slurm-client munge"
[ "$SLURM_DBD" = 1 ] && pkgs="$pkgs slurmdbd mariadb-server mariadb-client"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

mkdir -p "$R"/{etc,state,spool,log,run}

# --- slurm.conf (node line from the real hardware, memory with headroom) ---------------------
hw=$(slurmd -C | head -1)                      # NodeName=<host> CPUs=.. Boards=.. ... RealMemory=N
mem=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
mem=$(( mem * 90 / 100 ))
node=$(sed -e 's/^NodeName=[^ ]*/NodeName=localhost/' -e "s/RealMemory=[0-9]*/RealMemory=$mem/" <<<"$hw")
if [ "$SLURM_DBD" = 1 ]; then
  acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
JobAcctGatherType=jobacct_gather/linux"
else
  acct="AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none"
fi
cat > "$R/etc/slurm.conf.new" <<EOF
ClusterName=ci
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
ReturnToService=2
SlurmctldPidFile=$R/run/slurmctld.pid
SlurmdPidFile=$R/run/slurmd.pid
SlurmctldLogFile=$R/log/slurmctld.log
SlurmdLogFile=$R/log/slurmd.log
StateSaveLocation=$R/state
SlurmdSpoolDir=$R/spool
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=512
$acct
JobCompType=jobcomp/none
MinJobAge=$SLURM_MIN_JOB_AGE
SlurmctldDebug=info
SlurmdDebug=info
$node State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
mv "$R/etc/slurm.conf.new" "$R/etc/slurm.conf"
mkdir -p /etc/slurm
ln -sfn "$R/etc/slurm.conf" /etc/slurm/slurm.conf
unset SLURM_CONF

# --- munge ---------------------------------------------------------------------------------
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  [ -s /etc/munge/munge.key ] || { mungekey --create --keyfile=/etc/munge/munge.key; chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key; }
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
fi

# --- optional: MariaDB + slurmdbd ----------------------------------------------------------
if [ "$SLURM_DBD" = 1 ]; then
  D=$R/db; mkdir -p "$D/data" "$D/run"; chown -R mysql:mysql "$D"
  sock=$D/run/mysqld.sock
  if [ ! -d "$D/data/mysql" ]; then
    mariadb-install-db --user=mysql --datadir="$D/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$R/log/mariadb-install.log" 2>&1
  fi
  if ! alive "$D/run/mysqld.pid"; then
    runuser -u mysql -- /usr/sbin/mariadbd --no-defaults --datadir="$D/data" --socket="$sock" \
      --pid-file="$D/run/mysqld.pid" --bind-address=127.0.0.1 --port=3306 \
      --innodb-buffer-pool-size=64M --log-error="$D/run/mysqld.err" >/dev/null 2>&1 &
    for _ in $(seq 100); do mariadb --socket="$sock" -uroot -e 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
  fi
  mariadb --socket="$sock" -uroot -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmpw';
    CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurmpw';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"
  cat > "$R/etc/slurmdbd.conf" <<EOF
AuthType=auth/munge
DbdHost=localhost
DbdPort=6819
SlurmUser=root
DebugLevel=info
LogFile=$R/log/slurmdbd.log
PidFile=$R/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=slurmpw
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$R/etc/slurmdbd.conf"
  ln -sfn "$R/etc/slurmdbd.conf" /etc/slurm/slurmdbd.conf
  if ! alive "$R/run/slurmdbd.pid"; then
    /usr/sbin/slurmdbd
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/6819) 2>/dev/null && break; sleep 0.1; done
  fi
fi

# --- slurmctld + slurmd --------------------------------------------------------------------
if alive "$R/run/slurmctld.pid"; then scontrol reconfigure || true; else /usr/sbin/slurmctld; fi
alive "$R/run/slurmd.pid" || /usr/sbin/slurmd -N localhost

state=""
for _ in $(seq 120); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null || true)
  case "$state" in
    idle|mixed|allocated) break ;;
    down*|drain*|fail*) scontrol update nodename=localhost state=resume 2>/dev/null || true ;;
  esac
  sleep 0.25
done
case "$state" in idle|mixed|allocated) ;; *)
  echo "slurm node not ready (state='$state')" >&2
  tail -n 30 "$R/log/slurmctld.log" "$R/log/slurmd.log" >&2 || true
  exit 1 ;;
esac
sinfo
