#pragma once
// What one scenario run measured: counters, errors by kind, latency histograms (microseconds),
// the server's CPU/RSS samples and free-form rows (ramp levels, history windows). A Report
// from each client process travels to the parent as JSON and the parent merges them
// (counters and histograms add; elapsed takes the longest process).

#include <cstdint>
#include <map>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "loadgen/histogram.hpp"

namespace agentd::loadgen {

// Sampled from /proc/<pid> by the parent (proc_sampler.hpp); zero when no --server-pid.
struct ServerUsage {
  std::uint64_t baseline_rss_kb = 0;  // first sample, before load
  std::uint64_t peak_rss_kb = 0;
  std::uint64_t end_rss_kb = 0;
  double cpu_seconds = 0;  // user+system over the sampled span
  int samples = 0;
};

struct Report {
  std::string scenario;
  std::string target;  // host:port
  double elapsed_s = 0;
  std::map<std::string, std::uint64_t> counters;  // started, completed, failed, ...
  std::map<std::string, std::uint64_t> errors;    // kind -> count
  std::map<std::string, Histogram> latencies;     // name -> microseconds
  std::map<std::string, double> figures;          // derived numbers (runs_per_s, kb_per_conn ...)
  ServerUsage server;
  boost::json::array rows;  // scenario-specific detail (not merged: the parent's own)

  void Count(const std::string& name, std::uint64_t n = 1) { counters[name] += n; }
  void Fail(const std::string& kind) {
    counters["failed"] += 1;
    errors[kind] += 1;
  }
  std::uint64_t Counter(const std::string& name) const {
    auto it = counters.find(name);
    return it == counters.end() ? 0 : it->second;
  }
  const Histogram& Latency(const std::string& name) const;

  // Adds other's counters, errors and histograms; elapsed = max; figures and rows are left
  // to the caller (they are derived after the merge).
  void Merge(const Report& other);

  boost::json::value ToJson() const;
  static Result<Report> FromJson(const boost::json::value& v);
  // A human-readable table (latencies in ms).
  std::string FormatTable() const;
};

}  // namespace agentd::loadgen
