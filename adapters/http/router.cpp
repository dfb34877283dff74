#include "adapters/http/router.hpp"

#include <algorithm>

namespace kassa {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t pos = 0;
  if (!path.empty() && path.front() == '/')
    pos = 1;
  while (pos <= path.size()) {
    auto slash = path.find('/', pos);
    if (slash == std::string_view::npos)
      slash = path.size();
    parts.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return parts;
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::vector<std::pair<std::string, std::string>>& params) {
  auto want = split_path(pattern);
  auto got = split_path(path);
  if (want.size() != got.size())
    return false;
  params.clear();
  for (size_t i = 0; i < want.size(); ++i) {
    auto w = want[i];
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (got[i].empty())
        return false;
      params.emplace_back(std::string{w.substr(1, w.size() - 2)},
                          std::string{got[i]});
    } else if (w != got[i]) {
      return false;
    }
  }
  return true;
}

} // namespace

void router::add(route r) {
  routes_.push_back(std::move(r));
}

router::match_result router::match(std::string_view method,
                                   std::string_view path) const {
  match_result result;
  std::vector<std::pair<std::string, std::string>> params;
  for (auto& r : routes_) {
    if (!match_pattern(r.pattern, path, params))
      continue;
    if (r.method == method) {
      result.found = &r;
      result.params = std::move(params);
      result.allowed.clear();
      return result;
    }
    if (std::find(result.allowed.begin(), result.allowed.end(), r.method)
        == result.allowed.end())
      result.allowed.push_back(r.method);
  }
  return result;
}

} // namespace kassa
