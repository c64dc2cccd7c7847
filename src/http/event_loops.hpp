#pragma once
// The process's event loops: one io_context per thread (default: one per core), each run by
// its own thread. Connections are spread over the loops round-robin; anything long-lived
// (runs, subscribers) runs on one loop and talks to others by posting. Each loop has a lag
// probe (observe/loop_probe.hpp) so /health can tell a stuck loop from a busy one.

#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace agentd::http {

class EventLoops {
 public:
  explicit EventLoops(std::size_t count);
  ~EventLoops();  // stops and joins
  EventLoops(const EventLoops&) = delete;
  EventLoops& operator=(const EventLoops&) = delete;

  void Start();  // one thread per loop
  void Stop();   // stops every io_context and joins the threads
  std::size_t size() const { return loops_.size(); }
  boost::asio::io_context& loop(std::size_t i) { return *loops_[i]; }
  boost::asio::io_context& Next();  // round-robin

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>> guards_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> next_{0};  // Next() may be called from any loop
};

}  // namespace agentd::http
