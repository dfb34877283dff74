#pragma once

#include <string_view>
#include <vector>

namespace kassa {

/// A static file the node serves (embedded at build time: nothing is
/// fetched at run time).
struct web_asset {
  std::string_view path; ///< e.g. "/assets/app.js"
  std::string_view content_type;
  std::string_view body;
};

/// The backoffice page, its scripts and styles, the JavaScript client and
/// the API docs page (cmake/embed_migrations.cmake: kassa_embed_assets).
const std::vector<web_asset>& web_assets();

} // namespace kassa
