#!/usr/bin/env bash
# The operations kit stays true: the alert rules load and fire as their
# tests say (Debian's promtool), the Grafana dashboard is valid JSON, and
# every kassa metric they name is one the node registers.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/deploy/prometheus"
promtool check rules kassa-alerts.yml
promtool test rules kassa-alerts.test.yml
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["panels"], "no panels"' \
  "$root/deploy/grafana/kassa-dashboard.json"
registered=$(grep -rhoE '"kassa_[a-z_]+"' --include='*.cpp' \
               "$root/actors" "$root/adapters" "$root/node" "$root/runtime" | tr -d '"' | sort -u)
missing=0
for name in $(grep -hoE 'kassa_[a-z_]+' kassa-alerts.yml "$root/deploy/grafana/kassa-dashboard.json" \
                | sed -E 's/_(bucket|sum|count)$//' | sort -u); do
  [ "$name" = "kassa_node" ] && continue # the dashboard's uid
  if ! grep -qx "$name" <<<"$registered"; then
    echo "not a metric the node registers: $name"
    missing=1
  fi
done
exit $missing
