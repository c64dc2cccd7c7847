#pragma once
// Splits a request target ("/threads/a%20b?limit=10&x=1") into a percent-decoded path and
// decoded query parameters (Boost.URL; `+` in the query means space). Only origin-form
// targets are accepted; anything else is a 400.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace agentd::http::detail {

bool ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& query);

}  // namespace agentd::http::detail
