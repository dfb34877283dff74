#include "node/routes/web.hpp"

#include "adapters/web/web_assets.hpp"

namespace kassa {

void add_web_routes(router& r) {
  for (auto& asset : web_assets()) {
    route_options o{false, false, false};
    r.add({"GET", std::string{asset.path},
           asset.path == "/"         ? "web.page"
           : asset.path == "/docs"   ? "web.docs"
           : asset.path == "/member" ? "web.member"
                                     : "web.asset",
           o, [&asset](api_request&, responder_ptr out) {
             api_response resp{200,
                               std::string{asset.content_type},
                               std::string{asset.body},
                               {}};
             // Everything the page loads comes from this node (no CDN):
             // the policy says so, so an injected script cannot phone out.
             resp.headers.emplace_back(
               "Content-Security-Policy",
               "default-src 'self'; connect-src 'self' ws: wss:; img-src "
               "'self' data:; style-src 'self'; frame-ancestors 'none'");
             resp.headers.emplace_back("X-Content-Type-Options", "nosniff");
             resp.headers.emplace_back("Cache-Control", "no-cache");
             out->respond(std::move(resp));
           }});
  }
}

} // namespace kassa
