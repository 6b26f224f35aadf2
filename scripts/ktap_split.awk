# SPDX-License-Identifier: GPL-2.0
# Split kselftest-style KTAP (our runner's results.ktap, run_kselftest.sh's
# output) into one TAP document per program: the program's nested block
# without its "# " prefix, as DIR/NN.PROGRAM.tap, and the program's own
# result line as DIR/NN.PROGRAM.result.
#
#   awk -v dir=DIR -f ktap_split.awk FILE
/^# selftests: [^ ]+: [^ ]+$/ {
	n++; prog = sprintf("%s/%02d.%s", dir, n, $4)
	printf "" > (prog ".tap")
	next
}
prog != "" && /^(not )?ok [0-9]+ selftests: / {
	print > (prog ".result")
	close(prog ".tap"); close(prog ".result"); prog = ""
	next
}
prog != "" && /^#( |$)/ { print substr($0, 3) > (prog ".tap") }
