#include "runtime/providers/sse_parser.hpp"

#include <utility>

#include <fmt/format.h>

namespace agentd::runtime::providers {
namespace {

constexpr char kBom[] = "\xEF\xBB\xBF";
constexpr std::size_t kBomSize = 3;

// `retry` accepts ASCII digits only; a value that overflows is ignored like any invalid one.
std::optional<std::uint64_t> ParseRetry(std::string_view value) {
  if (value.empty()) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (n > (UINT64_MAX - digit) / 10) return std::nullopt;
    n = n * 10 + digit;
  }
  return n;
}

}  // namespace

SseParser::SseParser(SseParserOptions options) : options_(options) {}

Status SseParser::Fail(Error error) {
  failure_ = error;
  return error;
}

Status SseParser::Feed(std::string_view bytes, std::vector<SseEvent>& events) {
  if (failure_) return *failure_;
  std::size_t pos = 0;

  // The BOM may itself arrive split across slices, so match it byte by byte.
  while (!bom_checked_ && pos < bytes.size()) {
    if (bytes[pos] == kBom[bom_matched_]) {
      ++pos;
      if (++bom_matched_ == kBomSize) bom_checked_ = true;
      continue;
    }
    bom_checked_ = true;
    // A partial match was ordinary content (none of its bytes ends a line).
    line_.append(kBom, bom_matched_);
  }

  while (pos < bytes.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (bytes[pos] == '\n') {
        ++pos;
        continue;
      }
    }
    const std::size_t end = bytes.find_first_of("\r\n", pos);
    const std::string_view piece =
        bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line_.size() + piece.size() > options_.max_line_bytes) {
      return Fail(MakeError(Errc::kResourceExhausted,
                            fmt::format("sse line exceeds {} bytes", options_.max_line_bytes)));
    }
    if (end == std::string_view::npos) {
      line_.append(piece);
      break;
    }
    Status status;
    if (line_.empty()) {
      // Common case: the whole line sits in this slice; parse it without copying.
      status = ProcessLine(piece, events);
    } else {
      line_.append(piece);
      status = ProcessLine(line_, events);
      line_.clear();
    }
    if (!status) return Fail(status.error());
    skip_lf_ = bytes[end] == '\r';
    pos = end + 1;
  }
  return {};
}

bool SseParser::AtEventBoundary() const {
  const bool partial_bom = !bom_checked_ && bom_matched_ > 0;
  return line_.empty() && !has_data_ && event_type_.empty() && !partial_bom;
}

Status SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>& events) {
  if (line.empty()) {
    Dispatch(events);
    return {};
  }
  if (line.front() == ':') return {};  // comment (servers use them as keep-alives)
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return ProcessField(line, {});
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  return ProcessField(line.substr(0, colon), value);
}

Status SseParser::ProcessField(std::string_view name, std::string_view value) {
  if (name == "data") {
    const std::size_t added = value.size() + (has_data_ ? 1 : 0);
    if (data_.size() + added > options_.max_event_data_bytes) {
      return MakeError(Errc::kResourceExhausted,
                       fmt::format("sse event data exceeds {} bytes", options_.max_event_data_bytes));
    }
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  } else if (name == "event") {
    event_type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_.assign(value);
  } else if (name == "retry") {
    if (auto ms = ParseRetry(value)) {
      block_retry_ = ms;
      reconnection_time_ms_ = ms;
    }
  }
  // Any other field name is ignored, as the standard requires.
  return {};
}

void SseParser::Dispatch(std::vector<SseEvent>& events) {
  if (has_data_) {
    SseEvent& e = events.emplace_back();
    if (!event_type_.empty()) e.event = event_type_;
    e.data = std::move(data_);
    e.id = last_event_id_;
    e.retry = block_retry_;
  }
  data_.clear();
  has_data_ = false;
  event_type_.clear();
  block_retry_.reset();
}

}  // namespace agentd::runtime::providers
