#!/usr/bin/env bash
# Creates .dev.vars from .dev.vars.example if it is missing, filling each "generate" value
# with a fresh random secret. Never overwrites an existing .dev.vars.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f .dev.vars ] && exit 0
while IFS= read -r line; do
    if [[ "$line" =~ ^([A-Z_]+)=generate$ ]]; then
        printf '%s=%s\n' "${BASH_REMATCH[1]}" "$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    else
        printf '%s\n' "$line"
    fi
done < .dev.vars.example > .dev.vars
chmod 600 .dev.vars
echo "==> created .dev.vars with fresh secrets"
