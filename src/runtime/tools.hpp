#pragma once
// Tool invocation for the react graph's `tools` node. Kinds: `demo` (get_weather, in process)
// and `http` (POST the arguments JSON to ToolSpec.url through the HttpTransport, with the
// tool's timeout, retrying connect failures and 5xx up to ToolSpec.retries times).
// Never fails: every failure becomes an outcome with ok = false and the error text, which the
// node turns into a tool message with status "error" (the model sees it, the run goes on).
// Cancellation: the awaiting coroutine's slot cancels the HTTP call; the outcome then says
// "cancelled" and the caller checks its own cancellation state.

#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include "config/config.hpp"
#include "runtime/http_transport.hpp"

namespace agentd::runtime {

struct ToolOutcome {
  std::string content;
  bool ok = true;
};

// `spec` may be null: a name the graph lists without a spec falls back to the demo tool of
// that name, else an error outcome.
boost::asio::awaitable<ToolOutcome> InvokeTool(const config::ToolSpec* spec, std::string name,
                                               boost::json::value args, HttpTransport& http);

}  // namespace agentd::runtime
