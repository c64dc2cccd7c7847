#include "runtime/http_transport.hpp"

#include <cctype>

namespace agentd::runtime {

std::string HttpReply::Header(std::string_view name) const {
  auto equal = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  };
  for (const auto& [key, value] : headers) {
    if (equal(key, name)) return value;
  }
  return "";
}

}  // namespace agentd::runtime
