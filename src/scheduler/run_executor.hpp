#pragma once
// What the scheduler runs: one graph run, start to end. Production wraps runtime::GraphExecutor
// (GraphRunExecutor); unit tests plug in a scripted fake so that ordering and cancellation can
// be observed deterministically. The contract is GraphExecutor::Run's: cancelling the awaiting
// coroutine stops the run promptly and yields RunOutcome::Kind::kCancelled.

#include <memory>

#include <boost/asio/awaitable.hpp>

#include "runtime/executor.hpp"
#include "runtime/graph_registry.hpp"
#include "runtime/run_events.hpp"

namespace agentd::scheduler {

class RunExecutor {
 public:
  virtual ~RunExecutor() = default;
  virtual boost::asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo& graph,
                                                              runtime::RunRequest request,
                                                              runtime::RunEventSink& events) = 0;
};

// `executor` must outlive the returned object.
std::unique_ptr<RunExecutor> MakeGraphRunExecutor(runtime::GraphExecutor& executor);

}  // namespace agentd::scheduler
