#include "runtime/metrics.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace kassa {

namespace {

std::string render_labels(const metric_labels& labels) {
  std::string out;
  for (auto& [key, value] : labels) {
    out += out.empty() ? "" : ",";
    out += key;
    out += "=\"";
    for (char c : value) {
      if (c == '\\' || c == '"')
        out += '\\';
      if (c == '\n') {
        out += "\\n";
        continue;
      }
      out += c;
    }
    out += '"';
  }
  return out;
}

std::string format_double(double x) {
  if (std::isinf(x))
    return "+Inf";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", x);
  return buf;
}

void append_series(std::string& out, const std::string& name,
                   const std::string& labels, const std::string& extra,
                   const std::string& value) {
  out += name;
  if (!labels.empty() || !extra.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra.empty())
      out += ',';
    out += extra;
    out += '}';
  }
  out += ' ';
  out += value;
  out += '\n';
}

} // namespace

histogram::histogram(std::vector<double> bounds)
  : bounds_(std::move(bounds)),
    buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0);
}

void histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  auto ns = seconds > 0 ? static_cast<uint64_t>(seconds * 1e9) : 0;
  sum_ns_.fetch_add(ns, std::memory_order_relaxed);
}

std::vector<double> default_latency_bounds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

metrics_registry::family& metrics_registry::family_for(std::string_view name,
                                                       std::string_view help,
                                                       kind type) {
  auto i = families_.find(name);
  if (i == families_.end())
    i = families_
          .emplace(std::string{name}, family{type, std::string{help}, {}})
          .first;
  else if (i->second.type != type)
    throw std::logic_error("metric registered with two types: "
                           + std::string{name});
  return i->second;
}

counter& metrics_registry::get_counter(std::string_view name,
                                       std::string_view help,
                                       const metric_labels& labels) {
  std::lock_guard guard{mtx_};
  auto& s
    = family_for(name, help, kind::counter).by_labels[render_labels(labels)];
  if (!s.c)
    s.c = std::make_unique<counter>();
  return *s.c;
}

gauge& metrics_registry::get_gauge(std::string_view name, std::string_view help,
                                   const metric_labels& labels) {
  std::lock_guard guard{mtx_};
  auto& s
    = family_for(name, help, kind::gauge).by_labels[render_labels(labels)];
  if (!s.g)
    s.g = std::make_unique<gauge>();
  return *s.g;
}

histogram& metrics_registry::get_histogram(std::string_view name,
                                           std::string_view help,
                                           const metric_labels& labels,
                                           std::vector<double> bounds) {
  std::lock_guard guard{mtx_};
  auto& s
    = family_for(name, help, kind::histogram).by_labels[render_labels(labels)];
  if (!s.h)
    s.h = std::make_unique<histogram>(std::move(bounds));
  return *s.h;
}

std::string metrics_registry::render() const {
  std::lock_guard guard{mtx_};
  std::string out;
  for (auto& [name, fam] : families_) {
    out += "# HELP " + name + " " + fam.help + "\n";
    out += "# TYPE " + name + " ";
    out += fam.type == kind::counter ? "counter"
           : fam.type == kind::gauge ? "gauge"
                                     : "histogram";
    out += '\n';
    for (auto& [labels, s] : fam.by_labels) {
      if (s.c) {
        append_series(out, name, labels, "", std::to_string(s.c->value()));
      } else if (s.g) {
        append_series(out, name, labels, "", std::to_string(s.g->value()));
      } else if (s.h) {
        uint64_t cumulative = 0;
        auto& bounds = s.h->bounds();
        for (size_t i = 0; i <= bounds.size(); ++i) {
          cumulative += s.h->bucket(i);
          auto le = i < bounds.size() ? format_double(bounds[i]) : "+Inf";
          append_series(out, name + "_bucket", labels, "le=\"" + le + "\"",
                        std::to_string(cumulative));
        }
        append_series(out, name + "_sum", labels, "",
                      format_double(s.h->sum()));
        append_series(out, name + "_count", labels, "",
                      std::to_string(s.h->count()));
      }
    }
  }
  return out;
}

} // namespace kassa
