#pragma once
// A graph file's `function` node (docs/graphs.md): custom logic behind HTTP, in any language.
// POSTs {graph_id, node, thread_id, run_id, state, config, context[, resume]} as JSON to the
// node's url and reads {update?, goto?, interrupt?}. Non-2xx, a timeout, an answer over 1 MiB
// or that is not such a JSON object is a node error naming graph, node and URL; 5xx and
// connect/IO failures are retried (`retries` more attempts, short growing pauses on a timer).
// Headers may name environment variables ({env: NAME}), read at call time.
// Tests: tests/unit/runtime/function_node_test.cpp (a real loopback HTTP server).

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "graph/graph_def.hpp"
#include "runtime/http_transport.hpp"

namespace agentd::runtime {

inline constexpr std::size_t kMaxFunctionReplyBytes = 1 << 20;

struct FunctionAnswer {
  boost::json::object update;
  std::optional<boost::json::value> go;         // goto: a node name or a list
  std::optional<boost::json::value> interrupt;  // pause with this value
};

struct FunctionCall {
  std::string graph_id;
  std::string thread_id;
  std::string run_id;
  boost::json::object state;
  boost::json::object config;
  boost::json::object context;
  std::optional<boost::json::value> resume;
};

boost::asio::awaitable<Result<FunctionAnswer>> CallFunctionNode(const graph::NodeDef& node, FunctionCall call,
                                                                HttpTransport& http);

// Parses a function node's answer (exposed for tests). Errors name what is wrong.
Result<FunctionAnswer> ParseFunctionAnswer(std::string_view body);

}  // namespace agentd::runtime
