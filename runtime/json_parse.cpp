#include "runtime/json_parse.hpp"

#include <vector>

#include <nlohmann/json.hpp>

namespace kassa {

namespace {

using json = nlohmann::json;

/// nlohmann's DOM builder with the path of the value being read kept beside
/// it, so an error can name the field (the parser itself reports only a byte
/// offset), and a depth bound.
class tracking_sax {
public:
  tracking_sax(json& out, size_t max_depth)
    : dom_(out, false), max_depth_(max_depth) {}

  bool null() {
    value();
    return dom_.null();
  }
  bool boolean(bool x) {
    value();
    return dom_.boolean(x);
  }
  bool number_integer(json::number_integer_t x) {
    value();
    return dom_.number_integer(x);
  }
  bool number_unsigned(json::number_unsigned_t x) {
    value();
    return dom_.number_unsigned(x);
  }
  bool number_float(json::number_float_t x, const json::string_t& s) {
    value();
    return dom_.number_float(x, s);
  }
  bool string(json::string_t& x) {
    value();
    return dom_.string(x);
  }
  bool binary(json::binary_t& x) {
    value();
    return dom_.binary(x);
  }
  bool start_object(std::size_t n) {
    value();
    if (!push(false))
      return false;
    return dom_.start_object(n);
  }
  bool key(json::string_t& k) {
    frames_.back().key = k;
    return dom_.key(k);
  }
  bool end_object() {
    frames_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    value();
    if (!push(true))
      return false;
    return dom_.start_array(n);
  }
  bool end_array() {
    frames_.pop_back();
    return dom_.end_array();
  }
  bool parse_error(std::size_t position, const std::string& token,
                   const nlohmann::detail::exception& ex) {
    problem_ = json_problem{};
    problem_->field = path(true);
    switch (ex.id) {
      case 406:
        problem_->message = "number out of range: " + printable(token);
        break;
      default:
        problem_->message = "not valid JSON at byte " + std::to_string(position)
                            + detail(ex.what());
    }
    return false;
  }

  /// Set when the text was refused.
  std::optional<json_problem> problem_;

private:
  struct frame {
    bool array;
    long index; ///< Arrays: index of the last value started (-1: none).
    std::string key;
  };

  /// Called before every value: advances the index of an enclosing array.
  void value() {
    if (!frames_.empty() && frames_.back().array)
      ++frames_.back().index;
  }

  bool push(bool array) {
    if (frames_.size() >= max_depth_) {
      problem_
        = json_problem{path(false), "nested deeper than "
                                      + std::to_string(max_depth_) + " levels"};
      return false;
    }
    frames_.push_back({array, -1, {}});
    return true;
  }

  /// `a.b[2].c`; `next` names the value about to be read in an array (the
  /// parser fails before it calls value() for it).
  std::string path(bool next) const {
    std::string out;
    for (size_t i = 0; i < frames_.size(); ++i) {
      auto& f = frames_[i];
      if (f.array) {
        auto index = f.index;
        if (next && i + 1 == frames_.size())
          ++index;
        if (index >= 0)
          out += "[" + std::to_string(index) + "]";
      } else if (!f.key.empty() || i + 1 < frames_.size()) {
        if (!out.empty())
          out += '.';
        out += f.key;
      }
    }
    return out;
  }

  /// The token as it may be echoed to a client: short, printable ASCII.
  static std::string printable(const std::string& token) {
    std::string out;
    for (char c : token.substr(0, 40))
      out += (c >= 0x20 && c < 0x7f) ? c : '?';
    if (token.size() > 40)
      out += "...";
    return out;
  }

  /// nlohmann's explanation after "parse error at ...: ", if any.
  static std::string detail(std::string_view what) {
    auto colon = what.find(": ", what.find("parse error"));
    if (colon == std::string_view::npos)
      return {};
    std::string out{"; "};
    for (char c : what.substr(colon + 2, 160))
      out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::vector<frame> frames_;
  size_t max_depth_;
};

} // namespace

std::string string_field(const json& object, std::string_view key) {
  if (!object.is_object())
    return {};
  auto i = object.find(key);
  return i != object.end() && i->is_string() ? i->get<std::string>()
                                             : std::string{};
}

std::optional<json_problem> parse_json(std::string_view text, json& out,
                                       size_t max_depth) {
  tracking_sax sax{out, max_depth};
  // sax_parse reports every error through parse_error: it does not throw.
  auto ok = json::sax_parse(text.begin(), text.end(), &sax,
                            json::input_format_t::json, true);
  if (ok && !sax.problem_)
    return std::nullopt;
  if (!sax.problem_)
    sax.problem_ = json_problem{{}, "not valid JSON"};
  out = json{};
  return sax.problem_;
}

} // namespace kassa
