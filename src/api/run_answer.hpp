#pragma once
// Private to api/: what /mcp and /a2a (docs/interop.md) share about running an assistant for a
// client that speaks neither LangGraph nor its message format: the input built from plain
// text, and the final answer read back from a run's /wait body. Pure.
// Tests: tests/unit/api/interop_test.cpp.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "runtime/graph_registry.hpp"

namespace agentd::api::detail {

// A graph whose input schema has a `messages` property (every built-in kind, and graph files
// that declare one): a text becomes `{"messages": [{"role": "user", "content": text}]}`.
bool IsMessageGraph(const runtime::GraphInfo& graph);
boost::json::object TextInput(std::string_view text);

struct RunAnswer {
  enum class Kind { kDone, kError, kInterrupted };
  Kind kind = Kind::kDone;
  // kDone: the last message's text (content parts joined), or the values as JSON when the graph
  // has no messages; kError: the run's error message; kInterrupted: the interrupts as JSON.
  std::string text;
  std::string error_type;      // kError: e.g. "ValueError"
  boost::json::object values;  // kDone: the final values (minus nothing)
};

// Reads a run's /wait body (RunHandle::final_body, RunManager::FinishedBody): values,
// {"__error__": {error, message}} or a body with "__interrupt__".
RunAnswer ReadAnswer(const boost::json::value& final_body);

// The text of one message's `content` (a string, or parts whose `text` are joined).
std::string ContentText(const boost::json::value& content);

}  // namespace agentd::api::detail
