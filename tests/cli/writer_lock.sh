# Sourced by tests/cli/store.sh and status.sh: hold a run inside the AD file connector and
# wait for a run to take the store's writer lock.  Needs $work (the fixture's parent, store in
# $work/d) and bad(); sets $held (the caller's EXIT trap kills it).
# hold: lock the AD change log as an exporter would; runs touching AD block inside the connector.
hold() {
  (exec 9>>"$work/d/ad.ldif.changes" && flock -x 9 && exec sleep 600) >/dev/null 2>&1 &
  held=$!
  sleep 0.3
}
release() { kill "$held" 2>/dev/null; wait "$held" 2>/dev/null; held=; }
# wait_lock PID: until PID has taken the store's writer lock (its pid in mvsync.db.lock).
wait_lock() {
  local i
  for i in $(seq 100); do
    grep -q "^pid $1 " "$work/d/mvsync.db.lock" 2>/dev/null && return 0
    sleep 0.1
  done
  bad "pid $1 never took the writer lock"
}
