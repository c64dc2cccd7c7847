#include "observe/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <variant>

#include <fmt/format.h>

#include "common/assert.hpp"

namespace agentd::observe {

namespace {

enum class Kind { kCounter, kGauge, kHistogram };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kCounter: return "counter";
    case Kind::kGauge: return "gauge";
    case Kind::kHistogram: return "histogram";
  }
  return "untyped";
}

// Label values may hold anything; the exposition format escapes \, " and newline.
void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

// HELP text escapes only \ and newline.
std::string EscapeHelp(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// `{a="1",b="2"}` or "" without labels; `extra` (e.g. le) goes last.
std::string RenderLabels(const Labels& labels, std::string_view extra_key = {},
                         std::string_view extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return {};
  std::string out = "{";
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    AppendEscapedLabelValue(out, v);
    out += '"';
  };
  for (const auto& [k, v] : labels) add(k, v);
  if (!extra_key.empty()) add(extra_key, extra_value);
  out += '}';
  return out;
}

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

}  // namespace

void Gauge::Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)),
      buckets_(std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1)) {
  std::sort(bounds_.begin(), bounds_.end());
}

void Histogram::Observe(double value) {
  // Buckets are stored non-cumulatively (one increment per observation); rendering sums them.
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  buckets_[static_cast<std::size_t>(it - bounds_.begin())].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::BucketCounts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
          0.25,   0.5,   1,      2.5,   5,    10,    30,    60};
}

struct Metrics::Family {
  Kind kind;
  std::string help;
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;  // callback gauge
  };
  // Keyed by rendered labels so output order is stable and lookups are one string compare.
  std::map<std::string, Series, std::less<>> series;
};

Metrics::Metrics() = default;
Metrics::~Metrics() = default;

namespace {

template <class F>
auto& FamilyFor(F& families, std::string_view name, std::string_view help, Kind kind) {
  auto it = families.find(name);
  if (it == families.end()) {
    auto fam = std::make_unique<typename F::mapped_type::element_type>();
    fam->kind = kind;
    fam->help = std::string(help);
    it = families.emplace(std::string(name), std::move(fam)).first;
  }
  // One name, one type: registering a counter and a gauge under one name is a bug in code.
  AGENTD_ASSERT(it->second->kind == kind);
  return *it->second;
}

}  // namespace

Counter& Metrics::GetCounter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = FamilyFor(families_, name, help, Kind::kCounter);
  auto key = RenderLabels(labels);
  auto it = fam.series.find(key);
  if (it == fam.series.end()) {
    Family::Series s;
    s.labels = labels;
    s.counter = std::make_unique<Counter>();
    it = fam.series.emplace(std::move(key), std::move(s)).first;
  }
  return *it->second.counter;
}

Gauge& Metrics::GetGauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mu_);
  auto& fam = FamilyFor(families_, name, help, Kind::kGauge);
  auto key = RenderLabels(labels);
  auto it = fam.series.find(key);
  if (it == fam.series.end()) {
    Family::Series s;
    s.labels = labels;
    s.gauge = std::make_unique<Gauge>();
    it = fam.series.emplace(std::move(key), std::move(s)).first;
  }
  AGENTD_ASSERT(it->second.gauge != nullptr);  // not a callback gauge of the same name+labels
  return *it->second.gauge;
}

Histogram& Metrics::GetHistogram(std::string_view name, std::string_view help,
                                 const Labels& labels, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  auto& fam = FamilyFor(families_, name, help, Kind::kHistogram);
  auto key = RenderLabels(labels);
  auto it = fam.series.find(key);
  if (it == fam.series.end()) {
    Family::Series s;
    s.labels = labels;
    s.histogram = std::make_unique<Histogram>(std::move(bounds));
    it = fam.series.emplace(std::move(key), std::move(s)).first;
  }
  return *it->second.histogram;
}

void Metrics::AddCallbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                               std::function<double()> read) {
  std::lock_guard lock(mu_);
  auto& fam = FamilyFor(families_, name, help, Kind::kGauge);
  Family::Series s;
  s.labels = labels;
  s.read = std::move(read);
  fam.series.insert_or_assign(RenderLabels(labels), std::move(s));
}

std::string Metrics::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(families_.size() * 256);
  for (const auto& [name, fam] : families_) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name,
                   EscapeHelp(fam->help), name, KindName(fam->kind));
    for (const auto& [labels_text, s] : fam->series) {
      switch (fam->kind) {
        case Kind::kCounter:
          fmt::format_to(std::back_inserter(out), "{}{} {}\n", name, labels_text, s.counter->value());
          break;
        case Kind::kGauge: {
          double v = s.read ? s.read() : s.gauge->value();
          fmt::format_to(std::back_inserter(out), "{}{} {}\n", name, labels_text, FormatDouble(v));
          break;
        }
        case Kind::kHistogram: {
          const auto& h = *s.histogram;
          auto counts = h.BucketCounts();
          for (std::size_t i = 0; i < counts.size(); ++i) {
            std::string le = i < h.bounds().size() ? FormatDouble(h.bounds()[i]) : "+Inf";
            fmt::format_to(std::back_inserter(out), "{}_bucket{} {}\n", name,
                           RenderLabels(s.labels, "le", le), counts[i]);
          }
          fmt::format_to(std::back_inserter(out), "{}_sum{} {}\n{}_count{} {}\n", name,
                         labels_text, FormatDouble(h.sum()), name, labels_text, h.count());
          break;
        }
      }
    }
  }
  return out;
}

std::vector<Metrics::Sample> Metrics::Collect(std::string_view prefix) const {
  std::lock_guard lock(mu_);
  std::vector<Sample> out;
  for (auto it = families_.lower_bound(prefix);
       it != families_.end() && std::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it) {
    const auto& [name, fam] = *it;
    for (const auto& [labels_text, s] : fam->series) {
      Sample sample;
      sample.name = name;
      sample.labels = s.labels;
      switch (fam->kind) {
        case Kind::kCounter: sample.value = static_cast<double>(s.counter->value()); break;
        case Kind::kGauge: sample.value = s.read ? s.read() : s.gauge->value(); break;
        case Kind::kHistogram:
          sample.bounds = s.histogram->bounds();
          sample.buckets = s.histogram->BucketCounts();
          sample.sum = s.histogram->sum();
          sample.count = s.histogram->count();
          break;
      }
      out.push_back(std::move(sample));
    }
  }
  return out;
}

}  // namespace agentd::observe
