#pragma once
// Helpers for the bus tests: draining a subscription and reading frames back as text.

#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <gtest/gtest.h>

#include "bus/event_log.hpp"

// ASSERT_* returns void, which a coroutine cannot: fail and co_return instead.
#define BUS_CO_ASSERT(cond)                   \
  if (!(cond)) {                              \
    ADD_FAILURE() << "assertion failed: " #cond; \
    co_return;                                \
  }

namespace agentd::bus::testing {

// Reads until the log ends; fails the test on an error.
inline boost::asio::awaitable<std::vector<Frame>> Drain(Subscription& sub) {
  std::vector<Frame> all;
  for (;;) {
    auto next = co_await sub.Next();
    if (!next) {
      ADD_FAILURE() << "Next failed: " << next.error().message;
      co_return all;
    }
    if (next->empty()) co_return all;
    all.insert(all.end(), next->begin(), next->end());
  }
}

inline std::vector<std::string> Texts(const std::vector<Frame>& frames) {
  std::vector<std::string> out;
  for (const auto& f : frames) out.push_back(*f);
  return out;
}

// The frame Append("e", "{\"n\":<id>}") produces for `id`.
inline std::string FrameFor(std::uint64_t id) {
  return EncodeSseFrame("e", "{\"n\":" + std::to_string(id) + "}", id);
}

inline std::vector<std::string> FramesFor(std::uint64_t first, std::uint64_t end) {
  std::vector<std::string> out;
  for (auto id = first; id < end; ++id) out.push_back(FrameFor(id));
  return out;
}

inline void AppendN(RunEventLog& log, int n) {
  for (int i = 0; i < n; ++i) {
    auto id = log.next_id();
    log.Append("e", "{\"n\":" + std::to_string(id) + "}");
  }
}

}  // namespace agentd::bus::testing
