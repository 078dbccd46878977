# Sourced by ./crm and deploy/scripts/datastores.sh.
#
# close_inherited_fds: closes every descriptor above 2 in the current shell.
# Call it in the subshell that starts a daemon (a service, PostgreSQL,
# Redis): the daemon outlives its starter and must not hold the caller's
# descriptors for its lifetime, such as the lock of a `flock FILE ...` around
# the caller, which would stay taken until the daemon stops.
#
# The glob also lists the descriptor bash opened to read /proc/.../fd, gone
# by the time the loop reaches it: closing it fails, and that failure (only
# that one: every other listed descriptor is open) is ignored.
close_inherited_fds() {
  local fd
  for fd in /proc/"$BASHPID"/fd/*; do
    fd=${fd##*/}
    if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
}
