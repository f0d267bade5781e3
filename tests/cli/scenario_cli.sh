#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The scenario commands end to end (TAP): kvmmu run's result lines and exit
# statuses, a failing expectation named with expected and observed, bad
# usage, kvmmu stat's table and JSON, kvmmu demo's suite.
#
#   KVMMU_CLI=build/kvmmu tests/cli/scenario_cli.sh
set -u

. "$(dirname "$0")/tap-lib"

cat > "$tmp/good.kvs" <<'K'
vm vcpus=1
host mmap ram size=64K anon private
slot 0 gpa=0 size=64K hva=ram
vcpu 0 write gpa=0x100 u64=0x42
host read ram+0x100 expect u64=0x42
K
cat > "$tmp/wrong.kvs" <<'K'
vm vcpus=1
host mmap ram size=64K anon private
slot 0 gpa=0 size=64K hva=ram
host write ram+0x100 u64=0x42
vcpu 0 read gpa=0x100 expect u64=0x43
K
printf 'vm vcpus=1\nhost mmapp ram size=4K anon\n' > "$tmp/bad.kvs"

echo "TAP version 13"
echo "1..14"

"$cli" run -q "$tmp/good.kvs" > "$tmp/out" 2>&1
ok "run: a passing scenario exits 0" $?
contains "$tmp/out" "PASS" && contains "$tmp/out" "1 passed, 0 failed"
ok "run: prints PASS and the summary" $?

"$cli" run -q "$tmp/wrong.kvs" > "$tmp/out" 2>&1
[ $? -eq 1 ]
ok "run: a wrong expectation exits 1" $?
contains "$tmp/out" "FAIL" &&
	contains "$tmp/out" "wrong.kvs:5: \`vcpu 0 read gpa=0x100 expect u64=0x43\`: expected u64=0x43, observed u64=0x42"
ok "run: names the step, expected and observed" $?

"$cli" run -q "$tmp/bad.kvs" > "$tmp/out" 2>&1
[ $? -eq 1 ]
ok "run: a malformed scenario exits 1" $?
contains "$tmp/out" "bad.kvs:2:"
ok "run: the parse error has file:line:col" $?

"$cli" run -q "$tmp/good.kvs" "$tmp/wrong.kvs" > "$tmp/out" 2>&1
[ $? -eq 1 ] && contains "$tmp/out" "1 passed, 1 failed"
ok "run: several files, one failing, exit 1" $?

"$cli" run --backend nosuch "$tmp/good.kvs" > "$tmp/out" 2>&1
[ $? -eq 2 ] && contains "$tmp/out" "--backend: 'nosuch' is not a backend"
ok "run: an unknown backend is bad usage" $?

"$cli" run "$tmp/missing.kvs" > "$tmp/out" 2>&1
[ $? -eq 2 ]
ok "run: a missing file is bad usage" $?

"$cli" run -q --trace "$tmp/t.json" "$tmp/good.kvs" > "$tmp/out" 2>&1
[ $? -eq 0 ] && contains "$tmp/out" "trace: $tmp/t.json" &&
	contains "$tmp/t.json" '"traceEvents"' &&
	contains "$tmp/t.json" '"name":"kvm_page_fault"' &&
	contains "$tmp/t.json" '"name":"kvm_set_user_memory_region"'
ok "run: --trace writes the Chrome trace" $?

"$cli" run -q --trace /nonexistent-dir/t.json "$tmp/good.kvs" > "$tmp/out" 2>&1
[ $? -eq 1 ] && contains "$tmp/out" "--trace /nonexistent-dir/t.json"
ok "run: an unwritable trace file fails" $?

"$cli" stat "$tmp/good.kvs" > "$tmp/out" 2>&1
[ $? -eq 0 ] && contains "$tmp/out" "Event" && contains "$tmp/out" "pf_fixed"
ok "stat: kvm_stat-style table" $?

"$cli" stat --json -q "$tmp/good.kvs" > "$tmp/out" 2>&1
[ $? -eq 0 ] && contains "$tmp/out" '"passed":1' && contains "$tmp/out" '"pf_fixed":'
ok "stat: --json" $?

"$cli" demo -q -t 0 > "$tmp/out" 2>&1
[ $? -eq 0 ] && contains "$tmp/out" "0 failed" && contains "$tmp/out" "scenario suite" &&
	contains "$tmp/out" "model vs /dev/kvm "
ok "demo: the embedded suite passes (and the kernel agrees, or why not)" $?

exit $failed
