#!/usr/bin/env bash
# A local scaled registry on loopback, for tests and for trying it:
#   scripts/cluster.sh up DIR [--replicas N]   single-node Ceph (mon + memstore OSD + radosgw),
#                                              PostgreSQL 15, N Berth replicas (default 2), haproxy
#   scripts/cluster.sh down DIR                stops everything `up` started in DIR
#   scripts/cluster.sh kill DIR PART           SIGKILLs one part (postgres, radosgw, replica-K), and
#   scripts/cluster.sh start DIR PART          starts it again as `up` did (for fault tests)
# Every port is picked at random among free ones; everything listens on 127.0.0.1 only. `up` waits
# until every part answers, writes DIR/config.yaml (the replicas' shared config) and DIR/s3.env,
# keeps replica K's own files under DIR/replica-K/, and prints `registry=HOST:PORT` (haproxy) and
# one `replica=HOST:PORT pid=PID` line per replica. Needs root (PostgreSQL runs as `postgres`).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

die() { echo "cluster: $*" >&2; exit 1; }
log() { echo "cluster: $*" >&2; }

# Free TCP ports on 127.0.0.1, held open together so that none repeats.
free_ports() {
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]);
    const servers = [];
    (async () => {
      for (let i = 0; i < n; i++) {
        const s = net.createServer();
        await new Promise((r) => s.listen(0, "127.0.0.1", r));
        servers.push(s);
      }
      console.log(servers.map((s) => s.address().port).join(" "));
      for (const s of servers) s.close();
    })();' "$1"
}

# A run of `count` consecutive free ports (Ceph's daemons bind within a range), printed as "MIN MAX".
free_range() {
  node -e '
    const net = require("node:net");
    const count = Number(process.argv[1]);
    const tryPort = (p) => new Promise((resolve) => {
      const s = net.createServer();
      s.once("error", () => resolve(false));
      s.listen(p, "127.0.0.1", () => s.close(() => resolve(true)));
    });
    (async () => {
      for (let attempt = 0; attempt < 200; attempt++) {
        const base = 20000 + Math.floor(Math.random() * 30000);
        let ok = true;
        for (let p = base; p < base + count && ok; p++) ok = await tryPort(p);
        if (ok) { console.log(`${base} ${base + count - 1}`); return; }
      }
      process.exit(1);
    })();' "$1"
}

wait_http() { # URL SECONDS WHAT [PIDFILE LOGFILE]
  local deadline=$((SECONDS + $2))
  until curl -s -o /dev/null --max-time 2 "$1"; do
    if [ -n "${4:-}" ] && ! kill -0 "$(cat "$4")" 2>/dev/null; then
      tail -n 5 "$5" >&2 || true
      die "$3 exited (log: $5)"
    fi
    [ $SECONDS -lt $deadline ] || die "$3 did not answer at $1 within $2 s (logs in $dir)"
    sleep 0.2
  done
}

start_bg() { # PIDFILE LOGFILE CMD...
  local pidfile=$1 logfile=$2
  shift 2
  setsid "$@" >>"$logfile" 2>&1 </dev/null &
  local pid=$!
  # Return only once it leads its own session: whoever ran us may kill our process group as we
  # exit (the tests' helpers do), which would take a part that has not yet left it.
  local stat _
  for _ in $(seq 1 500); do
    read -r -a stat <"/proc/$pid/stat" 2>/dev/null || break
    [ "${stat[5]}" != "$pid" ] && [ "${stat[2]}" != Z ] || break
    sleep 0.01
  done
  echo "$pid" >"$pidfile"
  # How to start it again (`start DIR PART`).
  printf '%q ' "$logfile" "$@" >"${pidfile%pid}cmd"
}

osd_up() { # CONF
  timeout 10 ceph -c "$1" --connect-timeout 5 osd stat 2>/dev/null | grep -q " 1 up"
}

part_pidfile() {
  case $1 in
    replica-[0-9]*) echo "$dir/$1/pid" ;;
    postgres | radosgw | haproxy | ceph-osd | ceph-mon) echo "$dir/$1.pid" ;;
    *) die "unknown part $1 (postgres, radosgw, haproxy, replica-K)" ;;
  esac
}

kill_part() {
  local pidfile
  pidfile=$(part_pidfile "$1")
  [ -f "$pidfile" ] || die "$1 is not running"
  local pid
  pid=$(cat "$pidfile")
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  rm -f "$pidfile"
}

start_part() {
  local pidfile cmdfile
  pidfile=$(part_pidfile "$1")
  cmdfile=${pidfile%pid}cmd
  [ -f "$cmdfile" ] || die "$1 was never started here"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then die "$1 is running"; fi
  # PostgreSQL refuses to start over the lock file a killed server left.
  [ "$1" != postgres ] || rm -f "$dir/postgres/data/postmaster.pid"
  eval "start_bg $(printf '%q' "$pidfile") $(cat "$cmdfile")"
  echo "$1 pid=$(cat "$pidfile")"
}

up() {
  local replicas=2
  while [ $# -gt 0 ]; do
    case $1 in
      --replicas) replicas=${2:?--replicas needs a number}; shift 2 ;;
      *) die "unknown option $1" ;;
    esac
  done
  [[ $replicas =~ ^[0-9]+$ ]] || die "--replicas must be a number (0: only Ceph and PostgreSQL)"
  [ -e "$repo/dist/src/cli/main.js" ] || die "build first: npm run build"
  mkdir -p "$dir"
  [ ! -e "$dir/config.yaml" ] || die "$dir already holds a cluster (scripts/cluster.sh down $dir first)"
  # PostgreSQL runs as postgres, which must be able to reach its directory.
  chmod 711 "$dir"
  runuser -u postgres -- test -x "$dir" || die "user postgres cannot reach $dir: use a directory under /tmp"

  read -r mon_port rgw_port pg_port lb_port < <(free_ports 4)
  read -r ms_min ms_max < <(free_range 40) || die "no free port range for Ceph"
  local replica_ports=()
  [ "$replicas" -eq 0 ] || read -r -a replica_ports < <(free_ports "$replicas")

  # ---- Ceph: one monitor, one OSD on memstore, radosgw ----------------------------------------
  local ceph=$dir/ceph conf=$dir/ceph/ceph.conf fsid
  fsid=$(cat /proc/sys/kernel/random/uuid)
  mkdir -p "$ceph"/{mon,osd,run,log,rgw}
  cat >"$conf" <<CONF
[global]
fsid = $fsid
mon host = [v1:127.0.0.1:$mon_port]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind msgr2 = false
ms bind port min = $ms_min
ms bind port max = $ms_max
auth cluster required = none
auth service required = none
auth client required = none
run dir = $ceph/run
admin socket = $ceph/run/\$cluster-\$name.asok
log file = $ceph/log/\$name.log
mon data = $ceph/mon/\$cluster-\$id
osd data = $ceph/osd/\$cluster-\$id
osd objectstore = memstore
memstore device bytes = 4294967296
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd crush chooseleaf type = 0
mon allow pool size one = true
mon warn on pool no redundancy = false
keyring = $ceph/keyring
[client.rgw.a]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $ceph/rgw
CONF
  monmaptool --create --addv a "[v1:127.0.0.1:$mon_port]" --fsid "$fsid" "$ceph/monmap" >/dev/null
  ceph-authtool --create-keyring "$ceph/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$ceph/monmap" --keyring "$ceph/keyring" >/dev/null 2>&1 ||
    die "ceph-mon --mkfs failed"
  start_bg "$dir/ceph-mon.pid" "$ceph/log/mon.out" ceph-mon -c "$conf" -i a -f
  # The OSD's uuid is given to both: an OSD that made up its own at mkfs is refused at boot
  # ("wrong fsid") whenever the monitor recorded another, and never comes up.
  local osd_id osd_uuid
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_id=$(ceph -c "$conf" --connect-timeout 30 osd create "$osd_uuid" 2>/dev/null) ||
    die "the Ceph monitor did not answer"
  mkdir -p "$ceph/osd/ceph-$osd_id"
  ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 || die "ceph-osd --mkfs failed"
  # Now and then (about one start in three on a loaded machine) the OSD's first boot is refused
  # by the monitor ("wrong fsid") and it never comes up; a second boot goes through.
  local attempt deadline
  for attempt in 1 2 3 4 5; do
    start_bg "$dir/ceph-osd.pid" "$ceph/log/osd.out" ceph-osd -c "$conf" -i "$osd_id" -f
    deadline=$((SECONDS + 30))
    until osd_up "$conf" || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
    osd_up "$conf" && break
    log "the Ceph OSD did not come up (attempt $attempt): starting it again"
    stop_pidfile "$dir/ceph-osd.pid" KILL 2>/dev/null
  done
  osd_up "$conf" || die "the Ceph OSD did not come up (logs in $ceph/log)"
  start_bg "$dir/radosgw.pid" "$ceph/log/rgw.out" radosgw -c "$conf" -n client.rgw.a -f

  # ---- PostgreSQL 15 --------------------------------------------------------------------------
  local pg=$dir/postgres
  mkdir -p "$pg/socket"
  chown -R postgres "$pg"
  runuser -u postgres -- "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 >"$pg/initdb.log" 2>&1 ||
    die "initdb failed (see $pg/initdb.log)"
  start_bg "$dir/postgres.pid" "$pg/postgres.log" runuser -u postgres -- "$PG_BIN/postgres" -D "$pg/data" \
    -k "$pg/socket" -p "$pg_port" -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300
  local deadline=$((SECONDS + 30))
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$pg_port"; do
    [ $SECONDS -lt $deadline ] || die "PostgreSQL did not start (see $pg/postgres.log)"
    sleep 0.1
  done
  "$PG_BIN/psql" -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE berth" >/dev/null

  # ---- S3 user, once radosgw answers ----------------------------------------------------------
  # radosgw creates its pools on first start, which needs the OSD up: slow on a loaded machine.
  if ! (wait_http "http://127.0.0.1:$rgw_port/" 120 radosgw "$dir/radosgw.pid" "$ceph/log/rgw.out"); then
    echo "--- ceph status" >&2
    timeout 10 ceph -c "$conf" -s >&2 2>&1 || true
    for f in "$ceph"/log/client.rgw.a.log "$ceph"/log/osd.*.log; do
      echo "--- $f" >&2
      tail -n 15 "$f" >&2 2>/dev/null || true
    done
    die "radosgw did not come up (logs in $ceph/log)"
  fi
  local access secret
  access=BERTH$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  secret=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  radosgw-admin -c "$conf" user create --uid=berth --display-name=Berth \
    --access-key="$access" --secret="$secret" >/dev/null 2>&1 || die "radosgw-admin user create failed"
  cat >"$dir/s3.env" <<ENV
S3_ENDPOINT=http://127.0.0.1:$rgw_port
S3_REGION=us-east-1
S3_BUCKET=berth
AWS_ACCESS_KEY_ID=$access
AWS_SECRET_ACCESS_KEY=$secret
PG_URL=postgres://postgres@127.0.0.1:$pg_port/berth
ENV
  cat >"$dir/config.yaml" <<YAML
# Shared by every replica of this cluster (scripts/cluster.sh); each gets its own --addr and --root.
log:
  level: info
storage:
  s3:
    endpoint: http://127.0.0.1:$rgw_port
    region: us-east-1
    bucket: berth
    accessKey: $access
    secretKey: $secret
    forcePathStyle: true
    redirect: false
metadata:
  postgres:
    url: postgres://postgres@127.0.0.1:$pg_port/berth
gc:
  interval: "0"
  grace: 1h
YAML

  # ---- Berth replicas and haproxy -------------------------------------------------------------
  local k
  if [ "$replicas" -eq 0 ]; then
    echo "s3=127.0.0.1:$rgw_port"
    echo "postgres=127.0.0.1:$pg_port"
    return
  fi
  for ((k = 1; k <= replicas; k++)); do
    mkdir -p "$dir/replica-$k"
    start_bg "$dir/replica-$k/pid" "$dir/replica-$k/log" node "$repo/bin/berth.js" registry serve \
      --config "$dir/config.yaml" --addr "127.0.0.1:${replica_ports[k - 1]}" --root "$dir/replica-$k"
  done
  for ((k = 1; k <= replicas; k++)); do
    wait_http "http://127.0.0.1:${replica_ports[k - 1]}/v2/" 60 "replica $k" "$dir/replica-$k/pid" "$dir/replica-$k/log"
  done
  {
    cat <<CFG
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 10m
  timeout server 10m
  timeout http-request 10m
  option redispatch
  retries 2
frontend registry
  bind 127.0.0.1:$lb_port
  # The chunks and the end of one upload session share a URL: keep them on one replica, so its
  # running hash is used (any replica can finish it, by hashing the data again).
  acl upload_session path_reg ^/v2/.+/blobs/uploads/[^/]+\$
  use_backend uploads if upload_session
  default_backend replicas
backend replicas
  balance roundrobin
  option httpchk GET /v2/
  http-check expect rstatus ^(200|401)\$
CFG
    for ((k = 1; k <= replicas; k++)); do
      echo "  server replica-$k 127.0.0.1:${replica_ports[k - 1]} check inter 1s fall 2 rise 1"
    done
    cat <<CFG
backend uploads
  balance uri
  hash-type consistent
  option httpchk GET /v2/
  http-check expect rstatus ^(200|401)\$
CFG
    for ((k = 1; k <= replicas; k++)); do
      echo "  server replica-$k 127.0.0.1:${replica_ports[k - 1]} check inter 1s fall 2 rise 1"
    done
  } >"$dir/haproxy.cfg"
  start_bg "$dir/haproxy.pid" "$dir/haproxy.log" haproxy -db -f "$dir/haproxy.cfg"
  wait_http "http://127.0.0.1:$lb_port/v2/" 30 haproxy

  echo "registry=127.0.0.1:$lb_port"
  for ((k = 1; k <= replicas; k++)); do
    echo "replica=127.0.0.1:${replica_ports[k - 1]} pid=$(cat "$dir/replica-$k/pid")"
  done
}

stop_pidfile() { # PIDFILE SIGNAL
  [ -f "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill "-$2" -- "-$pid" 2>/dev/null || kill "-$2" "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

down() {
  [ -d "$dir" ] || die "no cluster in $dir"
  stop_pidfile "$dir/haproxy.pid" TERM
  local f
  for f in "$dir"/replica-*/pid; do stop_pidfile "$f" TERM; done
  stop_pidfile "$dir/postgres.pid" INT
  stop_pidfile "$dir/radosgw.pid" KILL
  stop_pidfile "$dir/ceph-osd.pid" KILL
  stop_pidfile "$dir/ceph-mon.pid" KILL
  rm -f "$dir/config.yaml"
}

usage="usage: scripts/cluster.sh up DIR [--replicas N] | down DIR | kill DIR PART | start DIR PART"
cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || die "$usage"
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
shift 2
case $cmd in
  up) up "$@" ;;
  down) down ;;
  kill) kill_part "${1:?$usage}" ;;
  start) start_part "${1:?$usage}" ;;
  *) die "$usage" ;;
esac
