# shellcheck shell=bash
# The reader of vm/devices (the table of the VM's emulated devices) for
# vm/run.sh and make check; vm/init has its own few lines, under busybox.
#
# devices_load FILE: 0 with, in the table's order,
#   DEV_NAMES         the names
#   DEV_IDS[NAME]     VENDOR:DEVICE (lower-case hex, no 0x)
#   DEV_ROLE[NAME]    dma or bar
#   DEV_ARGS[NAME]    the QEMU arguments, a string split at spaces
#   DEV_QMP_ID[NAME]  the id= of its -device (what device_del names)
#   DEV_DRIVER[NAME]  QEMU's device type, the -device value before its first comma
# or 1 with DEV_ERROR saying which line is wrong and why.
# shellcheck disable=SC2034  # the callers read them
devices_load()
{
	local file=$1 n=0 line name ids role args words i opt qmp_id driver ndev
	DEV_NAMES=() DEV_ERROR=
	declare -gA DEV_IDS=() DEV_ROLE=() DEV_ARGS=() DEV_QMP_ID=() DEV_DRIVER=()
	[ -r "$file" ] || { DEV_ERROR="no device table $file"; return 1; }
	while IFS= read -r line || [ -n "$line" ]; do
		n=$((n + 1))
		line=${line%%#*}	# a comment, to the end of the line
		read -r name ids role args <<< "$line"
		[ -n "$name" ] || continue
		# The name goes into --devices lists, unplug-NAME and regexes.
		[[ $name =~ ^[a-z][a-z0-9_-]*$ ]] && [ "$name" != none ] ||
			{ DEV_ERROR="$file:$n: name '$name' is not [a-z][a-z0-9_-]* (nor none)"; return 1; }
		[ -z "${DEV_IDS[$name]:-}" ] || { DEV_ERROR="$file:$n: $name twice"; return 1; }
		[[ $ids =~ ^[0-9a-f]{4}:[0-9a-f]{4}$ ]] ||
			{ DEV_ERROR="$file:$n: $name: ids '$ids' are not VENDOR:DEVICE in lower-case hex (1234:11e8)"; return 1; }
		[[ $role =~ ^(dma|bar)$ ]] || { DEV_ERROR="$file:$n: $name: role '$role' is not dma or bar"; return 1; }
		# vm/init names a device by its ids: one device, one role.
		for i in "${DEV_NAMES[@]}"; do
			[ "${DEV_IDS[$i]}" != "$ids" ] || [ "${DEV_ROLE[$i]}" = "$role" ] ||
				{ DEV_ERROR="$file:$n: $name: $ids is $i's, with role ${DEV_ROLE[$i]}"; return 1; }
		done
		read -r -a words <<< "$args"
		[ $(( ${#words[@]} % 2 )) = 0 ] && [ ${#words[@]} -gt 0 ] ||
			{ DEV_ERROR="$file:$n: $name: the QEMU arguments are not pairs of an option and its value"; return 1; }
		ndev=0 qmp_id= driver=
		for ((i = 0; i < ${#words[@]}; i += 2)); do
			opt=${words[i]}
			[[ $opt == -?* ]] && [[ ${words[i + 1]} != -* ]] ||
				{ DEV_ERROR="$file:$n: $name: '$opt ${words[i + 1]}' is not an option and its value"; return 1; }
			[ "$opt" = -device ] || continue
			ndev=$((ndev + 1))
			driver=${words[i + 1]%%,*}
			[[ ,${words[i + 1]}, =~ ,id=([^,]+), ]] && qmp_id=${BASH_REMATCH[1]}
		done
		[ $ndev = 1 ] && [ -n "$qmp_id" ] ||
			{ DEV_ERROR="$file:$n: $name: needs exactly one -device, with an id="; return 1; }
		DEV_NAMES+=("$name")
		DEV_IDS[$name]=$ids DEV_ROLE[$name]=$role DEV_ARGS[$name]=$args
		DEV_QMP_ID[$name]=$qmp_id DEV_DRIVER[$name]=$driver
	done < "$file"
	[ ${#DEV_NAMES[@]} -gt 0 ] || { DEV_ERROR="$file: no device"; return 1; }
}

# devices_list_ok LIST: LIST is none, or names of the table, comma-separated,
# each once.
devices_list_ok()
{
	local list=$1 d seen=,
	[ "$list" = none ] && return 0
	[[ $list =~ ^[^,]+(,[^,]+)*$ ]] || return 1
	local IFS=,
	for d in $list; do
		[ -n "${DEV_IDS[$d]:-}" ] || return 1
		[[ $seen == *",$d,"* ]] && return 1
		seen+="$d,"
	done
	return 0
}
