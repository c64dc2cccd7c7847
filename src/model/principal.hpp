#pragma once
// Who a request acts for, as resolved by auth (api/auth.hpp) from an API key or a JWT: the
// tenant that owns every object it creates and the only tenant whose objects it can see, the
// user id (thread owner), and the tier whose limits apply. With auth off every request is the
// empty tenant on the default tier.

#include <string>

namespace agentd::model {

struct Principal {
  std::string tenant;
  std::string user_id;
  std::string tier;  // a config::TierLimits name
};

}  // namespace agentd::model
