#pragma once
// The in-process PubSub (bus/pubsub.hpp): one process, so Publish hands the message straight
// to the local listeners of the channel (on the given executor, one handler at a time). Always
// healthy. What a single-instance agentd and unit tests use.

#include <memory>

#include <boost/asio/any_io_executor.hpp>

#include "bus/pubsub.hpp"

namespace agentd::bus::inproc {

// Handlers run on a strand of `executor`; it must outlive the PubSub and its listeners.
std::unique_ptr<PubSub> MakeInprocPubSub(boost::asio::any_io_executor executor);

}  // namespace agentd::bus::inproc
