#!/usr/bin/env bash
# Runs the demo: wrangler dev on http://127.0.0.1:8787 with local D1/DO state in .wrangler/.
# Called by `make dev` after setup, build, .dev.vars, migrations and seeding.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$BECKON_ROOT"
cat <<MSG

  Beckon is starting on http://127.0.0.1:8787
    demo page (a small-business site with the widget):  http://127.0.0.1:8787/
    web inbox (sign in with ADMIN_API_KEY from .dev.vars): http://127.0.0.1:8787/console/
    API description:                                    http://127.0.0.1:8787/api/v1/openapi.json

MSG
exec wrangler dev --ip 127.0.0.1 --port 8787 --show-interactive-dev-session=false
