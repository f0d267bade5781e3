#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The differential corpus on the real /dev/kvm (TAP): every scenario of
# scenarios/ and tests/diff/ on the model and on the kernel with every
# observation compared; a scenario right for the model but wrong for the
# kernel fails showing both observations; no KSM knob changed, no process
# left behind.  Without a usable /dev/kvm the whole file is skipped.
#
#   KVMMU_CLI=build/kvmmu tests/cli/diff_corpus.sh
set -u

. "$(dirname "$0")/tap-lib"
ksm=/sys/kernel/mm/ksm

# The KSM knobs kvmmu may change, at rest, one line: read under kvmmu's
# lock file (no merge of another test is under way), and if a merge was
# killed with the knobs changed, the values it saved there (the next merge
# puts them back; src/backend/realkvm_ksm.c).
knobs() {
	flock -w 30 /tmp/kvmmu-ksm.lock sh -c '
		if [ -s /tmp/kvmmu-ksm.lock ]; then
			tr "\n" " " < /tmp/kvmmu-ksm.lock
			exit 0
		fi
		for k in run pages_to_scan sleep_millisecs smart_scan; do
			[ -r "$1/$k" ] && printf "%s=%s " "$k" "$(cat "$1/$k")"
		done' sh "$ksm"
}

echo "TAP version 13"
printf 'vm vcpus=1\n' > "$tmp/probe.kvs"
"$cli" run -q --backend kvm "$tmp/probe.kvs" > "$tmp/out" 2>&1
if grep -q "backend unavailable" "$tmp/out"; then
	why=$(sed -n 's/.*backend unavailable: //p' "$tmp/out" | head -n 1)
	echo "1..0 # SKIP kvm backend unavailable: $why"
	exit 4
fi
echo "1..7"

before=$(knobs)
# Run from a copy so that this run's processes can be told from others.
cp -r scenarios tests/diff "$tmp/"
timeout 300 "$cli" run -q --backend both "$tmp/scenarios" "$tmp/diff" \
	> "$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ]
ok "corpus: kvmmu run --backend both exits 0" $?
[ $rc -eq 0 ] || sed 's/^/#   /' "$tmp/out" >&2
compared=$(sed -n 's/^\([0-9]*\) scenarios compared.*/\1/p' "$tmp/out")
[ "${compared:-0}" -ge 25 ]
ok "corpus: at least 25 scenarios compared (${compared:-0})" $?
# Every SKIP is explained: only the arm64/MIPS scenarios may skip, for
# the reason that this host's KVM is x86.
bad_skips=$(grep -A1 '^SKIP' "$tmp/out" | grep -v '^SKIP\|^--' |
	grep -vc "cannot create this VM: the host's KVM is x86")
[ "$bad_skips" -eq 0 ]
ok "corpus: every SKIP is an arm64/MIPS VM on an x86 host" $?
[ "$(knobs)" = "$before" ]
ok "corpus: the KSM knobs are as before ($before)" $?
sleep 0.2
! pgrep -f "$tmp" > /dev/null
ok "corpus: no process left behind" $?

timeout 60 "$cli" run -q --backend both tests/diff-fail/prefetch_counts.kvs \
	> "$tmp/out" 2>&1
[ $? -eq 1 ] && contains "$tmp/out" "kvm: tests/diff-fail/prefetch_counts.kvs:12:" &&
	contains "$tmp/out" "expected pf_fixed changed == 8, observed 1" &&
	contains "$tmp/out" "model (passed) observed pf_fixed changed by 8 there"
ok "wrong for the kernel: a stat fails on kvm, both values shown" $?

timeout 60 "$cli" run -q --backend both tests/diff-fail/smm_address_space.kvs \
	> "$tmp/out" 2>&1
rc=$?
if grep -q "kvm    observed ok" "$tmp/out"; then
	echo "ok 7 # SKIP this KVM has SMM's second address space"
else
	[ $rc -eq 1 ] && contains "$tmp/out" "the backends differ" &&
		contains "$tmp/out" "model  observed ok" &&
		contains "$tmp/out" "kvm    observed errno=EINVAL"
	ok "wrong for the kernel: an errno differs, both shown side by side" $?
fi
exit $failed
