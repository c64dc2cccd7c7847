#pragma once
// A bus::PubSub for Hub tests: Publish delivers inline to the listeners of that exact channel
// (so a test knows every handler ran when the publish completed), counts Listen calls and live
// listeners, and can be switched "down" (Publish fails with kUnavailable).

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "bus/pubsub.hpp"

namespace agentd::broadcast::testing {

class FakePubSub final : public bus::PubSub {
 public:
  struct Entry {
    std::string channel;
    Handler handler;
  };

  boost::asio::awaitable<Status> Publish(std::string channel, std::string payload) override {
    if (!healthy_) co_return Error(Errc::kUnavailable, "link down");
    {
      std::lock_guard lock(mu_);
      published_.push_back({channel, payload});
    }
    Deliver(channel, payload);
    co_return Status{};
  }
  // Hands `payload` to every listener of `channel`, as a message from the wire would arrive.
  void Deliver(const std::string& channel, const std::string& payload) {
    std::vector<std::shared_ptr<Entry>> targets;
    {
      std::lock_guard lock(mu_);
      for (auto& e : entries_) {
        if (e->channel == channel) targets.push_back(e);
      }
    }
    for (auto& e : targets) e->handler(channel, payload);
  }

  std::unique_ptr<bus::PubSubListener> Listen(std::string channel, Handler handler) override {
    auto entry = std::make_shared<Entry>(Entry{std::move(channel), std::move(handler)});
    std::lock_guard lock(mu_);
    ++listen_calls_;
    entries_.push_back(entry);
    return std::make_unique<Listener>(this, entry);
  }
  bool healthy() const override { return healthy_; }

  void set_healthy(bool h) { healthy_ = h; }
  int listen_calls() const {
    std::lock_guard lock(mu_);
    return listen_calls_;
  }
  std::size_t live_listeners() const {
    std::lock_guard lock(mu_);
    return entries_.size();
  }
  std::vector<std::string> live_channels() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (auto& e : entries_) out.push_back(e->channel);
    return out;
  }
  std::vector<std::pair<std::string, std::string>> published() const {
    std::lock_guard lock(mu_);
    return published_;
  }

 private:
  class Listener final : public bus::PubSubListener {
   public:
    Listener(FakePubSub* owner, std::shared_ptr<Entry> entry) : owner_(owner), entry_(entry) {}
    ~Listener() override {
      std::lock_guard lock(owner_->mu_);
      std::erase(owner_->entries_, entry_);
    }

   private:
    FakePubSub* owner_;
    std::shared_ptr<Entry> entry_;
  };

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<Entry>> entries_;
  int listen_calls_ = 0;
  std::atomic<bool> healthy_{true};
  std::vector<std::pair<std::string, std::string>> published_;
};

}  // namespace agentd::broadcast::testing
