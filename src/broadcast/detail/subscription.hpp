#pragma once
// The bus::Subscription a Hub hands out: Next() takes the subscriber's queue, or parks until a
// message, a cut, the Hub's close or cancellation. Private to broadcast/.

#include <memory>

#include "broadcast/detail/core.hpp"
#include "bus/event_log.hpp"

namespace agentd::broadcast::detail {

std::unique_ptr<bus::Subscription> MakeSubscription(std::shared_ptr<Hub::Core> core,
                                                    std::shared_ptr<Channel> channel,
                                                    std::shared_ptr<Subscriber> subscriber);

}  // namespace agentd::broadcast::detail
