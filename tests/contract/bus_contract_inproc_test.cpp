// The EventBus and PubSub contracts for the in-process backend (label unit).
#include "bus/inproc/inproc_event_bus.hpp"
#include "bus/inproc/inproc_pubsub.hpp"
#include "contract/bus_contract.hpp"
#include "contract/pubsub_contract.hpp"

namespace agentd::bus::contract {

INSTANTIATE_TEST_SUITE_P(Inproc, BusContract,
                         ::testing::Values(BusBackend{
                             "inproc", [](boost::asio::any_io_executor) {
                               return inproc::MakeInprocEventBus();
                             }}),
                         [](const auto& info) { return info.param.name; });

INSTANTIATE_TEST_SUITE_P(Inproc, PubSubContract,
                         ::testing::Values(PubSubBackend{
                             "inproc", [](boost::asio::any_io_executor executor) {
                               return inproc::MakeInprocPubSub(std::move(executor));
                             }}),
                         [](const auto& info) { return info.param.name; });

}  // namespace agentd::bus::contract
