#!/usr/bin/env bash
# Creates .dev.vars from .dev.vars.example, filling each "generate" value with a fresh random
# secret; on later runs only adds variables the example gained since. Never changes a value
# that is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
touch .dev.vars
chmod 600 .dev.vars
added=()
while IFS= read -r line; do
    [[ "$line" =~ ^([A-Z_]+)=(.*)$ ]] || continue
    name="${BASH_REMATCH[1]}" value="${BASH_REMATCH[2]}"
    grep -q "^${name}=" .dev.vars && continue
    [ "$value" = generate ] && value="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '%s=%s\n' "$name" "$value" >> .dev.vars
    added+=("$name")
done < .dev.vars.example
[ ${#added[@]} -eq 0 ] || echo "==> .dev.vars: added ${added[*]}"
