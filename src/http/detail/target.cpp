#include "http/detail/target.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

namespace agentd::http::detail {

bool ParseTarget(std::string_view target, std::string& path,
                 std::vector<std::pair<std::string, std::string>>& query) {
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return false;
  const auto& url = *parsed;
  path = url.path();
  query.clear();
  for (auto param : url.params()) {
    query.emplace_back(std::move(param.key), std::move(param.value));
  }
  return true;
}

}  // namespace agentd::http::detail
