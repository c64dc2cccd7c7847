#pragma once
// A validated run request (agent-protocol.md 3.3) and the pure steps that turn it into a Run:
// config and context merging (5.10), the run's metadata and kwargs, the executor's request.
// The API layer validates the body and fills RunSpec; nothing here does I/O.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "model/types.hpp"
#include "runtime/executor.hpp"
#include "runtime/run_events.hpp"

namespace agentd::scheduler {

enum class MultitaskStrategy { kReject, kEnqueue, kInterrupt, kRollback };
std::string_view ToString(MultitaskStrategy s);
std::optional<MultitaskStrategy> ParseMultitaskStrategy(std::string_view s);

enum class CancelAction { kInterrupt, kRollback };

struct RunSpec {
  std::string assistant_id;  // a UUID or a graph name, as the client sent it
  boost::json::value input;  // null: continue from the current state
  std::optional<boost::json::object> command;
  boost::json::object metadata;
  boost::json::object config;
  boost::json::object context;
  std::vector<runtime::StreamMode> stream_modes;  // empty means {values}
  bool stream_subgraphs = false;
  bool stream_resumable = false;
  std::optional<std::vector<std::string>> interrupt_before;  // "*" arrives as {"*"}
  std::optional<std::vector<std::string>> interrupt_after;
  std::optional<std::string> checkpoint_id;
  MultitaskStrategy multitask_strategy = MultitaskStrategy::kReject;
  bool create_thread_if_missing = false;  // if_not_exists: create
  bool delete_on_completion = true;       // on_completion (stateless runs only)
  double after_seconds = 0;
  std::optional<std::string> webhook;
  std::optional<boost::json::array> feedback_keys;
  std::optional<std::string> durability;
  // The request's x-* headers (minus secrets) and user-agent (section 1.8), lower-case names.
  boost::json::object headers;
};

// assistant ⊕ thread ⊕ request: top-level keys replace, `configurable` merges one level down.
boost::json::object MergeConfig(const boost::json::object& base, const boost::json::object& over);

// Which request headers reach the graph (section 1.8): x-* except x-api-key, x-tenant-id,
// x-service-key, and user-agent. `name` in any case.
bool HeaderReachesGraph(std::string_view name);

struct RunIds {
  std::string run_id;
  std::string thread_id;
  std::string assistant_id;  // resolved UUID
  std::string graph_id;
};

// The merged config with configurable's ids and headers, as kwargs.config and the executor see it.
boost::json::object RunConfig(const RunSpec& spec, const RunIds& ids,
                              const model::Assistant& assistant, const model::Thread& thread);

// The stored Run object (status pending) with metadata assistant ⊕ thread ⊕ request and the
// kwargs of section 3.3.
model::Run BuildRun(const RunSpec& spec, const RunIds& ids, const std::string& tenant,
                    const model::Assistant& assistant, const model::Thread& thread,
                    bool temporary);

// The executor's request for a stored run.
runtime::RunRequest BuildRunRequest(const RunSpec& spec, const RunIds& ids,
                                    const model::Run& run, const model::Assistant& assistant);

}  // namespace agentd::scheduler
