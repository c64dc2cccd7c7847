#include "http/event_loops.hpp"

#include <exception>

#include "observe/log.hpp"

namespace agentd::http {

namespace asio = boost::asio;

EventLoops::EventLoops(std::size_t count) {
  if (count == 0) count = 1;
  loops_.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    // Concurrency hint 1: each io_context is run by exactly one thread, so Asio can skip locks.
    loops_.push_back(std::make_unique<asio::io_context>(1));
  }
}

EventLoops::~EventLoops() { Stop(); }

void EventLoops::Start() {
  if (!threads_.empty()) return;
  guards_.clear();
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    auto& io = *loops_[i];
    if (io.stopped()) io.restart();
    guards_.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        io.get_executor()));
  }
  for (std::size_t i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([this, i] {
      auto& io = *loops_[i];
      // A handler that throws would end run(); log it and keep the loop turning, since every
      // connection and run on this loop depends on it.
      while (true) {
        try {
          io.run();
          break;
        } catch (const std::exception& e) {
          observe::Logger("http")->error("event loop handler threw loop={} what={}", i, e.what());
        } catch (...) {
          observe::Logger("http")->error("event loop handler threw loop={} what=unknown", i);
        }
      }
    });
  }
}

void EventLoops::Stop() {
  guards_.clear();
  for (auto& io : loops_) io->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

asio::io_context& EventLoops::Next() {
  auto i = next_.fetch_add(1, std::memory_order_relaxed);
  return *loops_[i % loops_.size()];
}

}  // namespace agentd::http
