#include "loadgen/report.hpp"

#include <algorithm>

#include <boost/json.hpp>
#include <fmt/format.h>

namespace agentd::loadgen {

namespace json = boost::json;

const Histogram& Report::Latency(const std::string& name) const {
  static const Histogram kEmpty;
  auto it = latencies.find(name);
  return it == latencies.end() ? kEmpty : it->second;
}

void Report::Merge(const Report& other) {
  if (scenario.empty()) scenario = other.scenario;
  if (target.empty()) target = other.target;
  elapsed_s = std::max(elapsed_s, other.elapsed_s);
  for (const auto& [k, v] : other.counters) counters[k] += v;
  for (const auto& [k, v] : other.errors) errors[k] += v;
  for (const auto& [k, h] : other.latencies) latencies[k].Merge(h);
}

json::value Report::ToJson() const {
  json::object counters_json, errors_json, lat_json, fig_json;
  for (const auto& [k, v] : counters) counters_json[k] = v;
  for (const auto& [k, v] : errors) errors_json[k] = v;
  for (const auto& [k, h] : latencies) {
    json::object o = h.ToJson().as_object();
    // Derived figures in ms for readers of --json; FromJson ignores them.
    o["p50_ms"] = static_cast<double>(h.Percentile(50)) / 1000.0;
    o["p90_ms"] = static_cast<double>(h.Percentile(90)) / 1000.0;
    o["p99_ms"] = static_cast<double>(h.Percentile(99)) / 1000.0;
    o["max_ms"] = static_cast<double>(h.max()) / 1000.0;
    o["mean_ms"] = h.Mean() / 1000.0;
    lat_json[k] = std::move(o);
  }
  for (const auto& [k, v] : figures) fig_json[k] = v;
  json::object server_json{{"baseline_rss_kb", server.baseline_rss_kb},
                           {"peak_rss_kb", server.peak_rss_kb},
                           {"end_rss_kb", server.end_rss_kb},
                           {"cpu_seconds", server.cpu_seconds},
                           {"samples", server.samples}};
  return json::object{{"scenario", scenario},   {"target", target},        {"elapsed_s", elapsed_s},
                      {"counters", counters_json}, {"errors", errors_json}, {"latencies_us", lat_json},
                      {"figures", fig_json},    {"server", server_json},   {"rows", rows}};
}

Result<Report> Report::FromJson(const json::value& v) {
  const auto* o = v.if_object();
  if (o == nullptr) return MakeError(Errc::kInvalidArgument, "report: not an object");
  Report r;
  if (const auto* s = o->if_contains("scenario"); s && s->is_string()) r.scenario = s->as_string().c_str();
  if (const auto* s = o->if_contains("target"); s && s->is_string()) r.target = s->as_string().c_str();
  if (const auto* e = o->if_contains("elapsed_s"); e && e->is_number()) r.elapsed_s = e->to_number<double>();
  auto read_map = [&](const char* key, std::map<std::string, std::uint64_t>& out) {
    if (const auto* m = o->if_contains(key); m && m->is_object()) {
      for (const auto& kv : m->get_object()) out[std::string(kv.key())] = kv.value().to_number<std::uint64_t>();
    }
  };
  read_map("counters", r.counters);
  read_map("errors", r.errors);
  if (const auto* m = o->if_contains("latencies_us"); m && m->is_object()) {
    for (const auto& kv : m->get_object()) {
      auto h = Histogram::FromJson(kv.value());
      if (!h) return h.error();
      r.latencies[std::string(kv.key())] = *h;
    }
  }
  if (const auto* m = o->if_contains("figures"); m && m->is_object()) {
    for (const auto& kv : m->get_object()) r.figures[std::string(kv.key())] = kv.value().to_number<double>();
  }
  if (const auto* rows = o->if_contains("rows"); rows && rows->is_array()) r.rows = rows->get_array();
  return r;
}

std::string Report::FormatTable() const {
  std::string out = fmt::format("scenario {} against {}: {:.2f} s\n", scenario, target, elapsed_s);
  for (const auto& [k, v] : counters) out += fmt::format("  {:<22} {}\n", k, v);
  for (const auto& [k, v] : errors) out += fmt::format("  error {:<16} {}\n", k, v);
  for (const auto& [k, v] : figures) out += fmt::format("  {:<22} {:.2f}\n", k, v);
  if (server.samples > 0) {
    out += fmt::format("  server rss: baseline {} KB, peak {} KB, end {} KB; cpu {:.2f} s\n",
                       server.baseline_rss_kb, server.peak_rss_kb, server.end_rss_kb, server.cpu_seconds);
  }
  if (!latencies.empty()) {
    out += fmt::format("  {:<18} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}\n", "latency (ms)", "count",
                       "p50", "p90", "p99", "max", "mean");
    for (const auto& [k, h] : latencies) {
      auto ms = [](std::uint64_t us) { return static_cast<double>(us) / 1000.0; };
      out += fmt::format("  {:<18} {:>8} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f} {:>10.2f}\n", k, h.count(),
                         ms(h.Percentile(50)), ms(h.Percentile(90)), ms(h.Percentile(99)), ms(h.max()),
                         h.Mean() / 1000.0);
    }
  }
  for (const auto& row : rows) out += "  " + json::serialize(row) + "\n";
  return out;
}

}  // namespace agentd::loadgen
