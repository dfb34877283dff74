#!/bin/sh
# HTTP only at the edge: outside adapters/http, adapters/ws and node/ (the
# API's routes), no source names a type or helper of the HTTP API or
# includes its headers (the HTTP client that calls providers is an edge of
# its own). Actors cannot (the build's layers stop them); this
# keeps the stores and provider adapters honest too: they answer domain
# replies (actors/reply.hpp), and adapters/http/replies.cpp maps them.
# Usage: http_stays_at_the_edge.sh <source root>
root=${1:?source root}
found=$(cd "$root" && grep -rlE \
  'api_(response|request)|responder_ptr|error_response\(|json_response\(|"adapters/http/(api|replies|router|api_pipeline|server|upgrade|beast_request)' \
  runtime actors adapters --include='*.cpp' --include='*.hpp' 2>/dev/null |
  grep -vE '^adapters/(http|ws)/|^adapters/type_ids\.hpp$')
if [ -n "$found" ]; then
  echo "HTTP outside the edge (answer a reply, actors/reply.hpp):"
  echo "$found"
  exit 1
fi
echo "HTTP stays at the edge"
