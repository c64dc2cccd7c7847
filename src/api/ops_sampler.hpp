#pragma once
// The console's live operations view (docs/console.md, "Operations"): ONE sampler per process
// that, while at least one viewer is connected, reads the process's state every `interval`
// (admission and the active runs, the metrics registry, event-loop lag, a storage ping, the
// broadcast hub) into one JSON sample, encodes it once as an SSE frame, and hands the same
// bytes to every viewer. Nobody watching: no sampling at all. Cost per sample is bounded: the
// run list is cut at kMaxRuns, the metric families read are a fixed set.
//
// Counters go out cumulative (the page differences consecutive samples into rates); latency
// histograms go out as quantiles of the interval (the bucket counts since the previous sample).
//
// Threading: every method may be called from any thread. The sampling coroutine runs on the
// executor of the viewer that started it; viewers wait on a scheduler::OneShot per sample, so a
// new frame wakes each viewer on its own executor. Sources must outlive the sampler's last
// sample: the application stops the event loops before destroying them.
// Tests: tests/unit/api/ops_sampler_test.cpp (BuildOpsSample, quantiles), the console e2e.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "bus/pubsub.hpp"
#include "common/error.hpp"
#include "config/config.hpp"
#include "observe/health.hpp"
#include "observe/metrics.hpp"
#include "scheduler/one_shot.hpp"
#include "scheduler/run_manager.hpp"

namespace agentd::broadcast {
class Hub;
}  // namespace agentd::broadcast
namespace agentd::storage {
class Storage;
}  // namespace agentd::storage

namespace agentd::api {

struct OpsSources {
  observe::Metrics& metrics;
  observe::Health& health;
  const config::Config& config;
  scheduler::RunManager* runs = nullptr;   // null: no run section
  broadcast::Hub* broadcast = nullptr;     // null: no broadcast section
  storage::Storage* storage = nullptr;     // null: no storage ping
  std::string version;
  std::string instance_id;  // this process's name in cluster mode (RunManager::instance_id)
};

// Quantile `q` (0..1) of a histogram given its upper bounds and per-bucket (non-cumulative)
// counts (bounds.size() + 1, the last is +Inf), interpolated linearly inside the bucket;
// nullopt when there are no observations. A value in the +Inf bucket reports the last bound.
std::optional<double> HistogramQuantile(const std::vector<double>& bounds,
                                        const std::vector<std::uint64_t>& counts, double q);

class OpsSampler : public std::enable_shared_from_this<OpsSampler> {
 public:
  static constexpr std::size_t kMaxRuns = 200;  // runs listed per sample (all are counted)

  static std::shared_ptr<OpsSampler> Make(OpsSources sources, std::chrono::milliseconds interval,
                                          std::size_t history = 300);
  ~OpsSampler();

  // The `hello` frame a viewer gets first: version, interval, limits, tiers, loop count.
  std::string HelloFrame() const;

  // A connected viewer. Next() returns the frames it has not seen yet (the history kept so
  // far on its first call, so charts start filled), waiting up to `heartbeat` for a new one
  // (then an empty vector); nullopt once the sampler is stopped. One coroutine per viewer.
  class Viewer {
   public:
    ~Viewer();  // leaves: the last viewer out stops the sampling
    boost::asio::awaitable<std::optional<std::vector<std::shared_ptr<const std::string>>>> Next(
        std::chrono::milliseconds heartbeat);

   private:
    friend class OpsSampler;
    explicit Viewer(std::shared_ptr<OpsSampler> owner) : owner_(std::move(owner)) {}
    std::shared_ptr<OpsSampler> owner_;
    std::uint64_t seen_ = 0;  // sequence number of the last frame handed out
  };
  // Starts the sampling coroutine on `executor` when nobody else is watching.
  std::unique_ptr<Viewer> Join(boost::asio::any_io_executor executor);

  // Ends every viewer's stream and the sampling; later Join()s get viewers that end at once.
  void Stop();

  // Cluster mode: every instance listens to kClusterChannel. A sampling instance publishes a
  // `watch` ping with each sample; every other instance answers (at most twice per interval)
  // with its summary (runs, queue, leases, loop lag), which the watcher lists under
  // `instances` until it is 3 intervals old. Nobody watching: no messages. `executor` runs
  // the publishes; `pubsub` must outlive Stop().
  static constexpr std::string_view kClusterChannel = "agentd:console:ops";
  void StartCluster(bus::PubSub& pubsub, boost::asio::any_io_executor executor);
  // This instance's summary, as the others list it.
  boost::json::object InstanceSummary() const;

  std::size_t viewers() const;
  std::uint64_t samples_taken() const;

  // One sample of the sources, as JSON (no history needed but the previous histogram counts,
  // kept in `previous`). Public for tests.
  struct Previous {
    std::map<std::string, std::vector<std::uint64_t>> buckets;  // series key -> cumulative
  };
  static boost::json::object BuildSample(const OpsSources& sources, Previous& previous,
                                         std::optional<double> storage_ping_ms,
                                         std::string storage_error);

 private:
  OpsSampler(OpsSources sources, std::chrono::milliseconds interval, std::size_t history);
  boost::asio::awaitable<void> Loop();
  void Leave();
  void OnClusterMessage(std::string_view payload);
  void PublishDetached(std::string payload);
  boost::json::array PeerSummaries();  // fresh peers, dropping stale ones

  OpsSources sources_;
  const std::chrono::milliseconds interval_;
  const std::size_t history_limit_;

  mutable std::mutex mu_;
  std::deque<std::pair<std::uint64_t, std::shared_ptr<const std::string>>> history_;
  std::uint64_t next_seq_ = 1;
  std::shared_ptr<scheduler::OneShot> next_frame_ = std::make_shared<scheduler::OneShot>();
  std::size_t viewers_ = 0;
  bool running_ = false;
  bool stopped_ = false;
  Previous previous_;  // touched only by the sampling coroutine

  // Cluster mode (guarded by mu_ but for the listener, set once by StartCluster).
  bus::PubSub* pubsub_ = nullptr;
  boost::asio::any_io_executor cluster_executor_;
  std::unique_ptr<bus::PubSubListener> listener_;
  std::chrono::steady_clock::time_point last_answer_{};
  struct Peer {
    boost::json::object summary;
    std::chrono::steady_clock::time_point received;
  };
  std::map<std::string, Peer> peers_;  // instance id -> its latest summary
};

}  // namespace agentd::api
