#include "model/types.hpp"

namespace agentd::model {

std::string_view ToString(ThreadStatus s) {
  switch (s) {
    case ThreadStatus::kIdle: return "idle";
    case ThreadStatus::kBusy: return "busy";
    case ThreadStatus::kInterrupted: return "interrupted";
    case ThreadStatus::kError: return "error";
  }
  return "idle";
}

std::optional<ThreadStatus> ParseThreadStatus(std::string_view s) {
  if (s == "idle") return ThreadStatus::kIdle;
  if (s == "busy") return ThreadStatus::kBusy;
  if (s == "interrupted") return ThreadStatus::kInterrupted;
  if (s == "error") return ThreadStatus::kError;
  return std::nullopt;
}

std::string_view ToString(RunStatus s) {
  switch (s) {
    case RunStatus::kPending: return "pending";
    case RunStatus::kRunning: return "running";
    case RunStatus::kSuccess: return "success";
    case RunStatus::kError: return "error";
    case RunStatus::kTimeout: return "timeout";
    case RunStatus::kInterrupted: return "interrupted";
  }
  return "pending";
}

std::optional<RunStatus> ParseRunStatus(std::string_view s) {
  if (s == "pending") return RunStatus::kPending;
  if (s == "running") return RunStatus::kRunning;
  if (s == "success") return RunStatus::kSuccess;
  if (s == "error") return RunStatus::kError;
  if (s == "timeout") return RunStatus::kTimeout;
  if (s == "interrupted") return RunStatus::kInterrupted;
  return std::nullopt;
}

}  // namespace agentd::model
