#pragma once
// The condition language of branch edges (docs/graphs.md "Conditions"): no code, only
// {channel, equals}, {channel, in}, {channel, exists}, {channel, matches}, {tool_calls},
// {last_message_contains}, and {all}, {any}, {not}; in an interrupt node's `update`,
// {resume: <path>, equals | in | exists | matches} tests the resume value (path "" = all of it). Parsed once at load (a bad regex is a load
// error); evaluated per step against the state after the node ran. Pure functions.
// Tests: tests/unit/graph/conditions_test.cpp.

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"
#include "graph/diagnostics.hpp"

namespace agentd::graph {

struct SourceNode;

// Longest `matches` pattern accepted, and how much of a value a regex reads: std::regex
// backtracks recursively, so both are bounded.
inline constexpr std::size_t kMaxRegexPattern = 512;
inline constexpr std::size_t kMaxRegexInput = 16 * 1024;

struct Condition {
  enum class Kind { kEquals, kIn, kExists, kMatches, kToolCalls, kLastMessageContains, kAll, kAny, kNot };
  Kind kind = Kind::kEquals;
  std::string channel;
  // {resume: <path>, ...}: the test reads the resume value (at `resume_path`), not a channel.
  bool on_resume = false;
  std::vector<std::string> resume_path;
  boost::json::value value;          // equals: the value; in: the array
  bool flag = true;                  // exists, tool_calls
  std::string text;                  // matches: the pattern; last_message_contains: the text
  std::shared_ptr<const std::regex> regex;
  std::vector<Condition> children;   // all, any, not (one)
  Mark mark;
  std::string path;
};

// The state a condition (or a template) reads: `messages` and the other channels.
struct StateView {
  const boost::json::object* channels = nullptr;
  const boost::json::array* messages = nullptr;
  // A message that follows `messages` (a node's own reply, before it is applied), or null.
  const boost::json::object* appended = nullptr;
  // The run's command.resume value while an interrupt node applies its `update`, or null.
  const boost::json::value* resume = nullptr;

  // The value of channel `name`, or null when unset (or null). `messages` is read through
  // `messages` and LastMessage(), never here.
  const boost::json::value* Channel(std::string_view name) const;
  // The last message (`appended` when set), or null.
  const boost::json::object* LastMessage() const;
};

// Parses a condition written at `path`; problems go to `diags` (nullopt then).
std::optional<Condition> ParseCondition(const SourceNode& node, const std::string& path, Diagnostics& diags);

// Whether `condition` holds. Errors: kInvalidArgument when a regex gives up (too complex).
Result<bool> Evaluate(const Condition& condition, const StateView& state);

// The text of a message's content: a string, or the text parts joined.
std::string MessageText(const boost::json::value& content);

// Whether a condition (or one inside it) reads the resume value.
bool ReadsResume(const Condition& condition);

// The channels a condition reads (for the validator).
void CollectChannels(const Condition& condition, std::vector<const Condition*>& out);

}  // namespace agentd::graph
