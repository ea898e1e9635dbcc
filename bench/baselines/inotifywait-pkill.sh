#!/usr/bin/env bash
# Baseline: the shell reloader (Debian inotify-tools). inotifywait reports each
# name moved into the volume directory; pkill finds the application by name
# and signals it. Every update forks a pkill that scans /proc.
# inotifywait prints "Watches established." on stderr once it is watching.
#
# Usage: inotifywait-pkill.sh DIR PROCESS_NAME
set -uo pipefail
dir=$1
name=$2
inotifywait --monitor --event moved_to --format '%f' "$dir" |
  while IFS= read -r file; do
    if [ "$file" = "..data" ]; then pkill -HUP -x "$name"; fi
  done
