#include "scheduler/run_json.hpp"

#include <string>

#include "common/time.hpp"

namespace agentd::scheduler {

boost::json::object RunJson(const model::Run& run) {
  return boost::json::object{
      {"run_id", run.run_id},
      {"thread_id", run.thread_id},
      {"assistant_id", run.assistant_id},
      {"status", std::string(model::ToString(run.status))},
      {"metadata", run.metadata},
      {"multitask_strategy", run.multitask_strategy},
      {"kwargs", run.kwargs},
      {"created_at", FormatIso8601(run.created_at)},
      {"updated_at", FormatIso8601(run.updated_at)},
      {"usage", run.usage},
  };
}

}  // namespace agentd::scheduler
