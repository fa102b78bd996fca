#!/bin/sh
# Retention of the nightly backups: keep the newest KEEP complete backups under ROOT (folders named
# by their UTC start time, YYYYMMDDTHHMMSSZ, holding a manifest.json) and delete every older folder
# of that name. Counting backups rather than days means a run of failed nights never deletes the
# last good ones. A folder without manifest.json newer than the kept ones (a backup still running,
# or one that died) is left alone. Anything else under ROOT is never touched.
#   backup-retention.sh ROOT [KEEP]      (KEEP defaults to 14: two weeks of nightly backups)
set -eu

root=${1:?usage: backup-retention.sh ROOT [KEEP]}
keep=${2:-14}
case $keep in
  '' | *[!0-9]*) echo "backup-retention.sh: KEEP must be a whole number, got '$keep'" >&2; exit 2 ;;
esac
if [ "$keep" -lt 1 ]; then
  echo "backup-retention.sh: KEEP must be at least 1" >&2
  exit 2
fi
cd "$root"

kept=0
# The names sort as the times they are: newest first.
for name in $(ls -1 | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort -r); do
  [ -d "$name" ] || continue
  if [ "$kept" -lt "$keep" ]; then
    if [ -f "$name/manifest.json" ]; then
      kept=$((kept + 1))
    fi
    continue
  fi
  echo "backup-retention.sh: deleting $root/$name"
  rm -rf -- "$name"
done
echo "backup-retention.sh: $kept backup(s) kept in $root"
