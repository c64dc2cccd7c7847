#pragma once
// What the API fuzzers share: the real API routes (api::RegisterRoutes) over a memory storage,
// with a RunManager whose executor finishes every run at once, all on one io_context that the
// fuzzer drives synchronously. Call() runs a handler and every coroutine it spawned (the run
// lifecycles) to completion, so each input leaves nothing in flight.

#include <memory>

#include <boost/asio/io_context.hpp>

#include "api/api.hpp"
#include "http/message.hpp"
#include "http/router.hpp"

namespace agentd::fuzz {

class ApiWorld {
 public:
  ApiWorld();
  ~ApiWorld();
  ApiWorld(const ApiWorld&) = delete;
  ApiWorld& operator=(const ApiWorld&) = delete;

  const http::Router& router() const { return router_; }
  // A thread created at start-up, for the /threads/{thread_id}/... routes.
  const std::string& thread_id() const { return thread_id_; }

  // Routes `request` and, when a handler matches, runs it; streamed bodies are not produced.
  http::Response Call(http::Request& request);

 private:
  struct Parts;
  boost::asio::io_context io_;
  std::unique_ptr<Parts> parts_;
  http::Router router_;
  std::string thread_id_;
};

// The process-wide world, rebuilt every `kCallsPerWorld` calls so that what the inputs create
// (threads, assistants, store items, run logs) cannot grow without bound over a long session.
ApiWorld& World();

// Silences logging: the handlers log per request, which would only slow the fuzzer down.
void QuietLogs();

}  // namespace agentd::fuzz
