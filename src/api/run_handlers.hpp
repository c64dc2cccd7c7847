#pragma once
// Private to api/: what the run handlers (run_handlers*.cpp) share.

#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "api/handlers.hpp"
#include "api/validate.hpp"
#include "scheduler/run_manager.hpp"

namespace agentd::api::detail {

// Reads a RunCreate body (agent-protocol.md 3.3) into a RunSpec; issues land in `v`.
// Also returns on_disconnect == "cancel".
std::optional<scheduler::RunSpec> ReadRunSpec(Validator& v, const Request& req,
                                              bool* cancel_on_disconnect);

// "/threads/{t}/runs/{r}" or "/runs/{r}" for stateless runs.
std::string RunPath(const scheduler::RunHandle& h);

// /join of a run another instance executes (cluster mode): keep-alives until it ended
// anywhere, then its body from storage.
Response RemoteWaitResponse(ApiContext& ctx, std::string tenant, model::Run run);
// While a local run waits for an execution slot: `queue` events (position, estimate) as it
// moves, `: hb` keep-alives when nothing changes. False when the client went away.
boost::asio::awaitable<bool> ServeQueue(scheduler::RunManager* runs,
                                        std::shared_ptr<scheduler::RunHandle> h,
                                        http::BodyWriter& out);
// A /wait or /join body: 200 at once, "\n" every <= 5 s until the run is done, then the body.
Response WaitResponse(ApiContext& ctx, std::shared_ptr<scheduler::RunHandle> h,
                      bool cancel_on_disconnect);

void RegisterRunQueryRoutes(http::Router& router, ApiContext& ctx);

}  // namespace agentd::api::detail

namespace agentd::api::detail {
void RegisterRunRoutes(http::Router& router, ApiContext& ctx);
}  // namespace agentd::api::detail
