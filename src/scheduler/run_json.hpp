#pragma once
// The protocol's Run object (agent-protocol.md 3.3), shared by the API's responses and the
// webhook body so that a field is shaped in one place.

#include <boost/json/object.hpp>

#include "model/types.hpp"

namespace agentd::scheduler {

boost::json::object RunJson(const model::Run& run);

}  // namespace agentd::scheduler
