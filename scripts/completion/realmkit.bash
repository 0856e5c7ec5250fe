# SPDX-License-Identifier: MIT
# bash completion for realmkit (installed as
# share/bash-completion/completions/realmkit). Commands and options are read
# from the program's own help (`realmkit --help`, `realmkit CMD --help`), so
# they follow it; option values with a fixed set (--hash) are offered, files
# otherwise.

# _realmkit_commands PROG: the command names `PROG --help` lists
_realmkit_commands()
{
	"$1" --help 2>/dev/null | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }'
}

# _realmkit_options PROG CMD: the options `PROG CMD --help` lists: the
# option lines ("  -m, --mem MIB   ...") and the bracketed ones of the usage line
_realmkit_options()
{
	{
		"$1" "$2" --help 2>/dev/null | awk '
			/^usage:/ {
				while (match($0, /\[--?[a-zA-Z][a-zA-Z0-9-]*/)) {
					print substr($0, RSTART + 1, RLENGTH - 1)
					$0 = substr($0, RSTART + RLENGTH)
				}
				next
			}
			/^[ \t]+-/ {
				for (i = 1; i <= NF && $i ~ /^--?[a-zA-Z]/; i++) {
					sub(/,$/, "", $i)
					print $i
				}
			}'
		echo --help
	} | sort -u
}

_realmkit()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} cmd="" i
	COMPREPLY=()
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	if [ -z "$cmd" ]; then
		if [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "--help" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$(_realmkit_commands "$prog")" -- "$cur")
		fi
		return 0
	fi
	case $prev in
	-H | --hash)
		mapfile -t COMPREPLY < <(compgen -W "sha256 sha384 sha512" -- "$cur")
		return 0
		;;
	-m | --mem | -c | --cpus | -n | --cycles | --timeout | -s | --size | --attest | -r | --rim | --challenge | --bootargs | --append)
		return 0 # a number, hex or free text: nothing to offer
		;;
	esac
	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_realmkit_options "$prog" "$cmd")" -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		compopt -o filenames 2>/dev/null
	fi
	return 0
}
complete -F _realmkit realmkit
