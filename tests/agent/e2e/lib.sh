# tests/agent/e2e/lib.sh - the temporary root shared by elevate's end-to-end
# scripts (sourced, not run): real group and gshadow files, policies
# compiled and signed by polc, PAM through pam_wrapper + pam_matrix, users
# and groups through nss_wrapper. Needs root (the state, policy and log must
# be root-owned); a script that sources it as another user is skipped.
#
# Environment: ELEVATE, POLC (default build/elevate, build/polc).
# Provides: $T (the root, removed on exit), policy, scenario, elevate_env,
# E, req, the check helpers, and finish (prints "NAME: N passed, M failed",
# exit status).
# The sourcing script sets E2E_NAME first.

set -u

ELEVATE=$(realpath "${ELEVATE:-build/elevate}")
POLC=$(realpath "${POLC:-build/polc}")
HERE=${E2E_HERE:?}
PAMTPL=$HERE/../pam

if [ "$(id -u)" -ne 0 ]; then
	echo "$E2E_NAME: skipped: must run as root (the agent's files must be root-owned)"
	exit 0
fi

libdir() { # the path of a library in the usual directories
	ls /usr/lib/*/"$1" /usr/lib64/"$1" /usr/lib/"$1" 2>/dev/null | head -n 1
}
PAMW=$(libdir libpam_wrapper.so)
NSSW=$(libdir libnss_wrapper.so)
if [ -z "$PAMW" ] || [ -z "$NSSW" ]; then
	echo "$E2E_NAME: FAIL: libpam_wrapper.so and libnss_wrapper.so are needed (tools/deps)"
	exit 1
fi
MODULES=$(dirname "$PAMW")/pam_wrapper
PRELOAD="$PAMW $NSSW"
ASAN=$(ldd "$ELEVATE" | awk '/libasan/ { print $3; exit }')
if [ -n "$ASAN" ]; then
	# A shared ASan runtime must come first; pam_wrapper's deep binding off (pam_wrapper(1)).
	PRELOAD="$ASAN $PRELOAD"
	export PAM_WRAPPER_DISABLE_DEEPBIND=1
fi
FAKETIME_LIB=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -n 1)

umask 022
T=$(mktemp -d /tmp/elevate-e2e-XXXXXX) || exit 1
chmod 755 "$T"
passed=0
failed=0

pids_running() { # pids_running PATTERN: the processes whose command line matches the case pattern
	for p in /proc/[0-9]*; do
		cmd=$(tr '\0' ' ' 2>/dev/null < "$p/cmdline") 2>/dev/null || continue
		case $cmd in $1) echo "${p#/proc/}" ;; esac
	done
}
kill_watchers() { # the detached watchers this test started: their command line names $T
	for pid in $(pids_running "*$T/*"); do kill -9 "$pid" 2>/dev/null; done
}
wait_until() { # wait_until COMMAND...: polls (0.1 s) until it succeeds, 20 s at most
	w=0
	until "$@"; do
		[ $w -ge 200 ] && return 1
		sleep 0.1
		w=$((w + 1))
	done
}
kill_scenario_watchers() { # the watchers of scenario $D (their command line names its config)
	for pid in $(pids_running "*$D/elevate.conf*"); do kill -9 "$pid" 2>/dev/null; done
}
cleanup() {
	kill_watchers
	rm -rf "$T"
}
trap cleanup EXIT

ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; [ -f "$T/out" ] && sed 's/^/     | /' "$T/out"; }
check() { # check NAME COMMAND...: passes when the command succeeds
	name=$1; shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

# ---- the fixed parts of the root ------------------------------------------------

USERS="alice bob carol dave erin frank"
{
	echo "root:x:0:0:root:/root:/bin/sh"
	uid=1001
	for u in $USERS; do echo "$u:x:$uid:$uid::/home/$u:/bin/sh"; uid=$((uid + 1)); done
} > "$T/passwd"
{
	echo "root:x:0:"
	echo "users:x:100:"
	echo "sudo:x:27:carol"
	echo "adm:x:4:syslog,carol"
	echo "staff:x:50:alice,bob"
	uid=1001
	for u in $USERS; do echo "$u:x:$uid:"; uid=$((uid + 1)); done
} > "$T/group.tpl"
sed 's/^\([^:#]*\):x:[0-9]*:\(.*\)$/\1:!::\2/' "$T/group.tpl" > "$T/gshadow.tpl"
for u in $USERS; do echo "$u:secret:elevate-password"; done > "$T/passdb"

mkdir -p "$T/pam"
for s in elevate-password other; do
	sed -e "s|@MODULES@|$MODULES|g" -e "s|@PASSDB@|$T/passdb|g" "$PAMTPL/$s" > "$T/pam/$s"
done
printf 'test-boot-1\n' > "$T/boot_id"

( cd "$T" && "$POLC" keygen --out "$T/k" >/dev/null && "$POLC" keygen --out "$T/u" >/dev/null ) ||
	{ echo "$E2E_NAME: FAIL: polc keygen"; exit 1; }

policy() { # policy NAME BODY: compiles and signs $T/NAME.epb
	{
		printf 'profile "e2e" {\n identifier "com.example.e2e"\n organization "Example"\n}\n'
		printf '%s\n' "$2"
	} > "$T/$1.ep"
	"$POLC" "$T/$1.ep" -o "$T/$1.mobileconfig" --bytecode "$T/$1.epb" \
		--bytecode-key "$T/k.key" >/dev/null 2>"$T/polc.err" ||
		{ echo "$E2E_NAME: FAIL: polc $1:"; cat "$T/polc.err"; exit 1; }
}

policy main 'elevation {
    duration      5m
    max           10m
    limit         none
    authenticate  password
    reason        required min 10 max 200
}
rule "No dave" {
    when user == "dave"
    deny "dave may not elevate"
}'
policy short 'elevation {
    duration      2s
    limit         none
    authenticate  password
    reason        optional
}'
policy limit1 'elevation {
    duration      5m
    limit         1 per day
    authenticate  password
    reason        optional
}'
policy limit3 'elevation {
    duration      1m
    limit         3 per day
    authenticate  password
    reason        none
}'

# scenario NAME POLICY [KEY]: a fresh group database, state and log in $T/NAME; sets D.
scenario() {
	D=$T/$1
	mkdir -p "$D/etc" "$D/state" "$D/log"
	chmod 700 "$D/state" "$D/log"
	cp "$T/group.tpl" "$D/etc/group"
	cp "$T/gshadow.tpl" "$D/etc/gshadow"
	cat > "$D/elevate.conf" <<-CONF
	# elevate e2e: $1
	policy = $T/$2.epb
	trusted_key = $T/${3:-k}.pub
	state_dir = $D/state
	audit_log = $D/log/audit.log
	admin_group = sudo
	group_root = $D/etc
	pam_password = elevate-password
	session = console
	boot_id_path = $T/boot_id
	CONF
}

# elevate_env: the environment elevate runs in for scenario $D (PAM through
# pam_wrapper, users and groups through nss_wrapper), NAME=VALUE one a line.
elevate_env() {
	printf '%s\n' PAM_WRAPPER=1 "PAM_WRAPPER_SERVICE_DIR=$T/pam" "NSS_WRAPPER_PASSWD=$T/passwd" \
		"NSS_WRAPPER_GROUP=$D/etc/group" "LD_PRELOAD=$PRELOAD"
}
# E ARGS...: runs elevate in scenario $D; output in $T/out, status in $rc.
E() {
	(
		IFS='
'
		set -f
		exec env $(elevate_env) "$ELEVATE" "$@" --config "$D/elevate.conf"
	) > "$T/out" 2>&1
	rc=$?
}
# A request by USER with PASSWORD on standard input.
req() { user=$1; printf '%s\n' "$2" > "$T/pw"; shift 2; E request -S --as "$user" "$@" < "$T/pw"; }

in_sudo() { grep -q "^sudo:.*[:,]$1\(,\|\$\)" "$D/etc/group"; }
not_in_sudo() { ! in_sudo "$1"; }
out_has() { grep -q -- "$1" "$T/out"; }
log_has() { grep -q -- "$1" "$D/log/audit.log"; }
rc_is() { [ "$rc" -eq "$1" ]; }
others_unchanged() { # every line but sudo's is as it was, in group and gshadow
	grep -v '^sudo:' "$T/group.tpl" > "$T/a"; grep -v '^sudo:' "$D/etc/group" > "$T/b"
	cmp -s "$T/a" "$T/b" || return 1
	grep -v '^sudo:' "$T/gshadow.tpl" > "$T/a"; grep -v '^sudo:' "$D/etc/gshadow" > "$T/b"
	cmp -s "$T/a" "$T/b"
}
count_events() { grep -c "\"event\":\"$1\"" "$D/log/audit.log"; }


finish() {
	echo "$E2E_NAME: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
