#pragma once
// Tool invocation for the react graph's `tools` node. Kinds: `demo` (get_weather, in process)
// and `http` (POST the arguments JSON to ToolSpec.url through the HttpTransport). An http
// attempt is bounded as a whole by ToolSpec.timeout (connect by min(10 s, timeout)).
// Connection failures and 5xx answers are retried up to ToolSpec.retries times after a short
// growing pause (50 ms, 100 ms, ...); a timeout is not (the tool may still be acting on the
// call), nor is any other answer (a 4xx is the tool refusing the arguments).
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

// `spec` is one of the graph's tools (RunContext::tools); it must outlive the call.
boost::asio::awaitable<ToolOutcome> InvokeTool(const config::ToolSpec& spec,
                                               boost::json::value args, HttpTransport& http);

}  // namespace agentd::runtime
