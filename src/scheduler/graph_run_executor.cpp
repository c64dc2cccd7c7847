#include <utility>

#include "scheduler/run_executor.hpp"

namespace agentd::scheduler {
namespace {

class GraphRunExecutor final : public RunExecutor {
 public:
  explicit GraphRunExecutor(runtime::GraphExecutor& executor) : executor_(executor) {}
  boost::asio::awaitable<runtime::RunOutcome> Execute(const runtime::GraphInfo& graph,
                                                      runtime::RunRequest request,
                                                      runtime::RunEventSink& events) override {
    co_return co_await executor_.Run(graph, std::move(request), events);
  }

 private:
  runtime::GraphExecutor& executor_;
};

}  // namespace

std::unique_ptr<RunExecutor> MakeGraphRunExecutor(runtime::GraphExecutor& executor) {
  return std::make_unique<GraphRunExecutor>(executor);
}

}  // namespace agentd::scheduler
