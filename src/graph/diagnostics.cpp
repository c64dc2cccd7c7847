#include "graph/diagnostics.hpp"

#include <fmt/format.h>

namespace agentd::graph {

std::string Diagnostic::Format() const {
  std::string where = file;
  if (mark.line > 0) where += fmt::format(":{}:{}", mark.line, mark.column);
  if (path.empty()) return fmt::format("{}: {}", where, message);
  return fmt::format("{}: {}: {}", where, path, message);
}

void Diagnostics::Add(Mark mark, std::string path, std::string message) {
  items_.push_back(Diagnostic{file_, mark, std::move(path), std::move(message)});
}

void Diagnostics::AddIn(std::string file, Mark mark, std::string path, std::string message) {
  items_.push_back(Diagnostic{std::move(file), mark, std::move(path), std::move(message)});
}

void Diagnostics::Append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

std::string Diagnostics::Format() const {
  std::string out;
  for (const auto& d : items_) {
    if (!out.empty()) out += '\n';
    out += d.Format();
  }
  return out;
}

}  // namespace agentd::graph
