#pragma once
// Process metrics exported as Prometheus text on /metrics. Names follow
// agentd_<subsystem>_<what>[_unit]; counters end in _total. Counters and gauges are relaxed
// atomics; histograms are per-bucket atomics. Get*() registers on first use and returns a
// reference that stays valid for the registry's lifetime: look it up once and keep it on hot
// paths. Thread-safe.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::observe {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Inc(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double value);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound plus +Inf, sum and count, for rendering.
  std::vector<std::uint64_t> BucketCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;  // size bounds_ + 1
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

// Seconds: 0.5 ms .. 60 s.
std::vector<double> DefaultLatencyBuckets();

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Counter& GetCounter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& GetGauge(std::string_view name, std::string_view help, const Labels& labels = {});
  Histogram& GetHistogram(std::string_view name, std::string_view help, const Labels& labels = {},
                          std::vector<double> bounds = DefaultLatencyBuckets());
  // A gauge read when rendering (open connections, queue depth ...).
  void AddCallbackGauge(std::string_view name, std::string_view help, const Labels& labels,
                        std::function<double()> read);
  std::string RenderPrometheus() const;

  // A point-in-time copy of every series whose family name starts with `prefix`, for readers
  // that want numbers rather than text (the console's operations sampler). Counters and gauges
  // fill `value`; histograms fill bounds, cumulative `buckets` (bounds + 1, the last is +Inf),
  // `sum` and `count`.
  struct Sample {
    std::string name;
    Labels labels;
    double value = 0;
    std::vector<double> bounds;
    std::vector<std::uint64_t> buckets;
    double sum = 0;
    std::uint64_t count = 0;
  };
  std::vector<Sample> Collect(std::string_view prefix) const;

 private:
  struct Family;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;
};

}  // namespace agentd::observe
