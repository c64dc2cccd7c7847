#pragma once
// Domain values as the protocol's JSON objects (agent-protocol.md 3.1, 3.2, 6.1, 8). Plain
// functions: every handler that returns one of these objects goes through here, so a field is
// named and shaped in exactly one place.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "model/types.hpp"

namespace agentd::api {

namespace json = boost::json;

json::object AssistantJson(const model::Assistant& a);
json::object AssistantVersionJson(const model::AssistantVersion& v);
json::object ThreadJson(const model::Thread& t);
// Item; a search item adds "score": null (no semantic index).
json::object ItemJson(const model::StoreItem& item, bool with_score = false);

// {thread_id, checkpoint_ns, checkpoint_id, checkpoint_map: null}
json::object CheckpointRefJson(std::string_view thread_id, std::string_view checkpoint_ns,
                               std::string_view checkpoint_id);
// ThreadState of a thread without checkpoints: values {}, next [], tasks [], nulls.
json::object EmptyThreadState();
// ThreadState at `cp`; `messages` is the folded message log there (nullopt: the checkpoint
// has no message channel, so `values` carries no `messages` key).
json::object ThreadStateJson(const model::Checkpoint& cp, std::optional<json::array> messages);

// Keeps only `fields` of `obj` (all of them when nullopt).
json::object SelectFields(json::object obj, const std::optional<std::vector<std::string>>& fields);

// Field names a `select` may name.
std::span<const std::string_view> AssistantFields();
std::span<const std::string_view> ThreadFields();

}  // namespace agentd::api
