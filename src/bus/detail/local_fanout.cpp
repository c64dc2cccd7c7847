#include "bus/detail/local_fanout.hpp"

#include <exception>
#include <utility>

#include <boost/asio/post.hpp>

#include "observe/log.hpp"

namespace agentd::bus::detail {

namespace asio = boost::asio;

struct LocalFanout::Entry {
  std::string channel;
  PubSub::Handler handler;
  std::recursive_mutex call_mu;  // held while the handler runs
  bool active = true;            // guarded by call_mu
};

class LocalFanout::Listener final : public PubSubListener {
 public:
  Listener(std::shared_ptr<LocalFanout> fanout, std::shared_ptr<Entry> entry)
      : fanout_(std::move(fanout)), entry_(std::move(entry)) {}
  ~Listener() override { fanout_->Remove(entry_); }

 private:
  std::shared_ptr<LocalFanout> fanout_;
  std::shared_ptr<Entry> entry_;
};

LocalFanout::LocalFanout(asio::any_io_executor executor, ChannelHook on_first,
                         ChannelHook on_last)
    : strand_(asio::make_strand(std::move(executor))),
      on_first_(std::move(on_first)),
      on_last_(std::move(on_last)) {}

std::unique_ptr<PubSubListener> LocalFanout::Listen(std::string channel,
                                                    PubSub::Handler handler) {
  auto entry = std::make_shared<Entry>();
  entry->channel = channel;
  entry->handler = std::move(handler);
  {
    std::lock_guard lock(mu_);
    auto& listeners = channels_[channel];
    listeners.push_back(entry);
    if (listeners.size() == 1 && on_first_) on_first_(channel);
  }
  return std::make_unique<Listener>(shared_from_this(), std::move(entry));
}

void LocalFanout::Remove(const std::shared_ptr<Entry>& entry) {
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(entry->channel);
    if (it != channels_.end()) {
      std::erase(it->second, entry);
      if (it->second.empty()) {
        channels_.erase(it);
        if (on_last_) on_last_(entry->channel);
      }
    }
  }
  // Waits out a call running on another thread; re-entrant from inside the handler.
  std::lock_guard call(entry->call_mu);
  entry->active = false;
}

void LocalFanout::Deliver(std::string channel, std::string payload) {
  asio::post(strand_, [self = shared_from_this(), channel = std::move(channel),
                       payload = std::move(payload)] {
    std::vector<std::shared_ptr<Entry>> targets;
    {
      std::lock_guard lock(self->mu_);
      auto it = self->channels_.find(channel);
      if (it == self->channels_.end()) return;
      targets = it->second;
    }
    for (const auto& entry : targets) {
      std::lock_guard call(entry->call_mu);
      if (!entry->active) continue;
      try {
        entry->handler(channel, payload);
      } catch (const std::exception& e) {
        // A throwing handler must not stop delivery to the others.
        observe::Logger("bus.pubsub")->error("handler for {} threw: {}", channel, e.what());
      }
    }
  });
}

std::vector<std::string> LocalFanout::Channels() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.reserve(channels_.size());
  for (const auto& [channel, listeners] : channels_) out.push_back(channel);
  return out;
}

std::size_t LocalFanout::ListenerCount(const std::string& channel) const {
  std::lock_guard lock(mu_);
  auto it = channels_.find(channel);
  return it == channels_.end() ? 0 : it->second.size();
}

}  // namespace agentd::bus::detail
