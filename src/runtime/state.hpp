#pragma once
// The in-memory state of one graph run: the channels of the built-in graphs. `messages` uses
// the add-messages reducer (messages.hpp); channels the graph declares "append" concatenate
// lists (a non-list update appends one item); every other key is a last-value channel. The
// executor loads it once from the thread's checkpoint chain and keeps it for the whole run
// (never re-read), applying each node's update as it finishes. Plain values, no I/O.

#include <set>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "common/error.hpp"

namespace agentd::runtime {

namespace json = boost::json;

struct GraphState {
  json::object channels;  // every channel but messages, in full
  json::array messages;   // the folded message list
  std::set<std::string> append_channels;  // channels with the append reducer (from the graph)
  // Channels besides `messages` with the add_messages reducer (graph files): their writes are
  // normalised messages, applied by id like `messages`'.
  std::set<std::string> message_channels;

  // {messages: [...], ...channels}: what `values` events and outcomes show.
  json::object Values() const;
  // The same, allocated from `sp` (for a copy that is serialised once and dropped: one arena
  // instead of one malloc per JSON node, which dominated long threads' turns).
  json::object Values(json::storage_ptr sp) const;
};

// What applying one update did: the update as stored (messages normalised: ids assigned,
// `type` spelling) and the message writes to record in the step's checkpoint.
struct AppliedUpdate {
  json::object update;
  json::array message_writes;
};

// Applies `update` (an object of channel -> value) through the reducers. Errors:
// kInvalidArgument when the update is not an object or a message in it is invalid; the state
// is left unchanged then.
Result<AppliedUpdate> ApplyUpdate(GraphState& state, const json::value& update);

// ApplyUpdate in two halves, for callers that must validate before touching the state but
// cannot afford a copy of it: PrepareUpdate validates and normalises (no state involved),
// ApplyPrepared applies what it returned (cannot fail).
// `message_channels`: other channels whose values are normalised as messages (add_messages).
Result<AppliedUpdate> PrepareUpdate(const json::value& update,
                                    const std::set<std::string>& message_channels = {});
void ApplyPrepared(GraphState& state, const AppliedUpdate& applied);

}  // namespace agentd::runtime
