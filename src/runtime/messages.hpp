#pragma once
// The `messages` channel reducer (agent-protocol.md 7.2): folding a sequence of message
// writes gives the channel's value. Plain functions, no I/O: the state readers in api/ and the
// run engine share them.

#include <boost/json/array.hpp>
#include <boost/json/value.hpp>

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

}  // namespace agentd::runtime
