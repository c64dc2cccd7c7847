#pragma once
// The `messages` channel reducer (agent-protocol.md 7.2): folding a sequence of message
// writes gives the channel's value. Plain functions, no I/O: the state readers in api/ and the
// run engine share them.

#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace agentd::runtime {

namespace json = boost::json;

// Id that, in a message of type "remove", empties the list.
inline constexpr char kRemoveAllMessages[] = "__remove_all__";

// Applies one write to `messages` with add-messages semantics: a message whose id is already
// present replaces it in place; a message of type "remove" deletes the message with its id
// (`__remove_all__` empties the list); anything else is appended. A write that is an array is
// applied element by element. Writes that are not objects or arrays are ignored.
void ApplyMessageWrite(json::array& messages, const json::value& write);

// Folds `writes` (oldest first) into the resulting message list.
json::array FoldMessages(const json::array& writes);

// Input normalisation (agent-protocol.md 7.2): turns what a client may send as one message
// ({role, content}, {type, content}, a bare string, a [role, content] pair) into the stored
// message dict of 7.1: `type`, `content` (kept as sent), `id` (the client's, else a new
// uuid4), `additional_kwargs` {}, `response_metadata` {}, plus `tool_calls` [] and
// `invalid_tool_calls` [] for ai and `tool_call_id` for tool. Other fields the client sent
// (name, status, artifact ...) are kept. A `remove` message keeps only type and id.
// Errors: kInvalidArgument naming the problem (unknown role/type, missing content, a tool
// message without tool_call_id, a value that is not a message).
Result<json::object> NormalizeMessage(const json::value& message);

// The value of a `messages` write: one message or an array of them, each normalised.
Result<json::array> NormalizeMessages(const json::value& messages);

// The text of a message content: a string as is; content blocks joined (text parts only).
std::string ContentText(const json::value& content);

}  // namespace agentd::runtime
