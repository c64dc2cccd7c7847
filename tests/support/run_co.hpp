#pragma once
// RunCo: runs a coroutine on a fresh io_context until it finishes, rethrows what escaped it,
// and fails the test (throws) if it has not finished within `timeout`.

#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace agentd::testing {

template <class T>
T RunCo(boost::asio::awaitable<T> task,
        std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  boost::asio::io_context io;
  std::optional<T> result;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
    error = e;
    if (!e) result.emplace(std::move(value));
    done = true;
  });
  io.run_for(timeout);
  if (!done) throw std::runtime_error("RunCo: coroutine did not finish before the deadline");
  if (error) std::rethrow_exception(error);
  return std::move(*result);
}

inline void RunCo(boost::asio::awaitable<void> task,
                  std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  boost::asio::io_context io;
  std::exception_ptr error;
  bool done = false;
  boost::asio::co_spawn(io, std::move(task), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  io.run_for(timeout);
  if (!done) throw std::runtime_error("RunCo: coroutine did not finish before the deadline");
  if (error) std::rethrow_exception(error);
}

}  // namespace agentd::testing
